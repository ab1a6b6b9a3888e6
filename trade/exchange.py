"""The interface every exchange offers the trader: Binance and the simulated one.

Two classes, one interface, no `if dry_run` branches. Order events (fills, cancels)
do not come back from these calls: they arrive through `on_order_update` on the
trader, from the user-data stream (Binance) or from `SimulatedExchange.on_candle`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from trade.models import AccountPosition, AccountTrade, OrderRequest, OrderUpdate
from trade.symbol_rules import SymbolRules


class Exchange(Protocol):
    hedge_mode: bool
    """True when the account holds LONG and SHORT separately (Binance's dual-side mode)."""

    def symbol_rules(self, symbol: str) -> SymbolRules:
        """The filters the exchange applies to `symbol`."""

    def wallet_balance(self) -> Decimal:
        """USDT wallet balance: deposits plus realized PnL minus fees (no unrealized PnL)."""

    def available_balance(self) -> Decimal:
        """USDT free for new margin."""

    def change_leverage(self, leverage: int) -> None:
        """Set `leverage` for every symbol this exchange was prepared for (a change from the
        dashboard). Raises trade.errors.ExchangeFatal when a symbol's bracket does not allow it."""

    def on_tick(self) -> None:
        """Called about once a second from the trader thread: refresh cached account data."""

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        """Send a MARKET or LIMIT order; return the exchange's acknowledgement.

        Raises OrderRejected, OutcomeUnknown or RateLimited (see trade.errors)."""

    def place_conditional(self, request: OrderRequest) -> OrderUpdate:
        """Send a STOP_MARKET or TAKE_PROFIT_MARKET order (Binance: the algo-order API)."""

    def cancel_order(self, request: OrderRequest) -> OrderUpdate | None:
        """Cancel one of our orders by client id; None when the exchange no longer knows it."""

    def query_order(self, request: OrderRequest) -> OrderUpdate | None:
        """Ask for one of our orders by client id; None when the exchange does not know it."""

    def account_positions(self, symbol: str) -> list[AccountPosition]:
        """The account's non-zero position legs on `symbol`, whoever opened them."""

    def account_trades(self, symbol: str, start_ms: int) -> list[AccountTrade]:
        """The account's trades on `symbol` from `start_ms` on, oldest first, whoever placed the orders."""

    def order_client_id(self, symbol: str, order_id: str) -> str:
        """The client id an order of the account carries (`autoclose-...` for a liquidation,
        `adl_autoclose...` for an auto-deleverage, our own prefix for ours); "" when unknown."""

    def open_orders_of_ours(self, symbol: str, prefix: str) -> list[OrderRequest]:
        """Our open orders on `symbol`, plain (MARKET, LIMIT) and conditional (STOP_MARKET,
        TAKE_PROFIT_MARKET) alike: those whose client id starts with `prefix` (the journal's
        `id_prefix` and "-"). Each OrderRequest carries at least the client id, symbol, side
        and type (all Binance's list gives): enough to cancel it."""
