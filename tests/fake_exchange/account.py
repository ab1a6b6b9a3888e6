"""The futures account: wallet balance, positions, leverage and the books kept per fill.

`Account.apply_fill` is the one place money moves: it updates the position (average
entry on increase, realized PnL on reduce, flip through zero), charges commission
(notional × maker or taker rate) and adjusts the USDT wallet by `rp − n`. Views
render the REST bodies (balance, account, positionRisk, v2 and v3) and the
ACCOUNT_UPDATE event. Position amounts are signed in one-way mode (BOTH) and
positive/negative per side in hedge mode (LONG ≥ 0, SHORT ≤ 0), as Binance shows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .orders import ZERO, _money, _plain
from .symbols import SymbolRules

MAX_NOTIONAL = "80000000"


@dataclass
class Position:
    """One position leg. `amount` signed (base asset); `entry_price` 0 when flat."""

    symbol: str
    position_side: str
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized: Decimal = ZERO
    update_time: int = 0

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.entry_price) * self.amount if self.amount else ZERO


@dataclass(frozen=True)
class Trade:
    """A row of GET /fapi/v1/userTrades. `commission` is the fee paid (positive)."""

    id: int
    order_id: int
    symbol: str
    side: str
    position_side: str
    price: Decimal
    qty: Decimal
    realized_pnl: Decimal
    commission: Decimal
    maker: bool
    time: int

    def view(self, rules: SymbolRules) -> dict:
        return {"buyer": self.side == "BUY", "commission": _money(self.commission), "commissionAsset": "USDT",
                "id": self.id, "maker": self.maker, "orderId": self.order_id, "price": _plain(self.price),
                "qty": rules.fmt_qty(self.qty), "quoteQty": _plain(self.price * self.qty),
                "realizedPnl": _money(self.realized_pnl), "side": self.side, "positionSide": self.position_side,
                "symbol": self.symbol, "time": self.time}


class Account:
    """Wallet, positions and per-symbol settings of the single fake account."""

    def __init__(self, balance: Decimal, maker_rate: Decimal, taker_rate: Decimal,
                 rules: dict[str, SymbolRules]) -> None:
        self.rules = rules
        self.wallet = balance
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.dual_side = False
        self.leverage: dict[str, int] = {}
        self.margin_type: dict[str, str] = {}
        self.margin_type_refusal: int | None = None   # see FakeBinance.refuse_margin_type_changes
        self.positions: dict[tuple[str, str], Position] = {}
        self.trades: list[Trade] = []
        self.update_time = 0

    def _amt(self, p: Position) -> str:
        rules = self.rules.get(p.symbol)
        return rules.fmt_qty(p.amount) if rules else _plain(p.amount)

    def position(self, symbol: str, position_side: str) -> Position:
        return self.positions.setdefault((symbol, position_side), Position(symbol, position_side))

    def legs(self, symbol: str) -> list[Position]:
        sides = ("LONG", "SHORT") if self.dual_side else ("BOTH",)
        return [self.position(symbol, s) for s in sides]

    def apply_fill(self, symbol: str, position_side: str, side: str, qty: Decimal, price: Decimal,
                   maker: bool, now_ms: int) -> tuple[Decimal, Decimal]:
        """Book one fill; returns (realized PnL, commission paid)."""
        pos = self.position(symbol, position_side)
        delta = qty if side == "BUY" else -qty
        realized = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (delta > 0):
            total = abs(pos.amount) + qty
            pos.entry_price = (abs(pos.amount) * pos.entry_price + qty * price) / total
            pos.amount += delta
        else:
            closing = min(qty, abs(pos.amount))
            direction = 1 if pos.amount > 0 else -1
            realized = closing * (price - pos.entry_price) * direction
            pos.amount += delta
            if pos.amount == 0:
                pos.entry_price = ZERO
            elif (pos.amount > 0) != (direction > 0):
                pos.entry_price = price
        commission = (qty * price * (self.maker_rate if maker else self.taker_rate)).quantize(Decimal("0.00000001"))
        pos.realized += realized
        pos.update_time = now_ms
        self.wallet += realized - commission
        self.update_time = now_ms
        return realized, commission

    # ----- views -----------------------------------------------------------------------

    def _margins(self, marks: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
        upnl = sum((p.unrealized(marks.get(p.symbol, p.entry_price)) for p in self.positions.values()), ZERO)
        initial = sum((abs(p.amount) * marks.get(p.symbol, p.entry_price) / self.leverage.get(p.symbol, 20)
                       for p in self.positions.values()), ZERO)
        return upnl, initial

    def available(self, marks: dict[str, Decimal], order_margin: Decimal = ZERO) -> Decimal:
        upnl, initial = self._margins(marks)
        return self.wallet + upnl - initial - order_margin

    def balance_view(self, marks: dict[str, Decimal]) -> list[dict]:
        upnl, _ = self._margins(marks)
        available = self.available(marks)
        return [{"accountAlias": "SgsR", "asset": "USDT", "balance": _money(self.wallet),
                 "crossWalletBalance": _money(self.wallet), "crossUnPnl": _money(upnl),
                 "availableBalance": _money(available), "maxWithdrawAmount": _money(available),
                 "marginAvailable": True, "updateTime": self.update_time}]

    def account_view(self, version: int, marks: dict[str, Decimal], rules: dict[str, SymbolRules]) -> dict:
        upnl, initial = self._margins(marks)
        available = self.available(marks)
        totals = {
            "totalInitialMargin": _money(initial), "totalMaintMargin": _money(initial / 10),
            "totalWalletBalance": _money(self.wallet), "totalUnrealizedProfit": _money(upnl),
            "totalMarginBalance": _money(self.wallet + upnl), "totalPositionInitialMargin": _money(initial),
            "totalOpenOrderInitialMargin": "0", "totalCrossWalletBalance": _money(self.wallet),
            "totalCrossUnPnl": _money(upnl), "availableBalance": _money(available),
            "maxWithdrawAmount": _money(available),
        }
        asset = {"asset": "USDT", "walletBalance": _money(self.wallet), "unrealizedProfit": _money(upnl),
                 "marginBalance": _money(self.wallet + upnl), "maintMargin": _money(initial / 10),
                 "initialMargin": _money(initial), "positionInitialMargin": _money(initial),
                 "openOrderInitialMargin": "0", "crossWalletBalance": _money(self.wallet),
                 "crossUnPnl": _money(upnl), "availableBalance": _money(available),
                 "maxWithdrawAmount": _money(available), "updateTime": self.update_time}
        if version == 2:
            positions = [self._account_position_v2(p, marks) for s in rules for p in self.legs(s)]
            return {"feeTier": 0, "feeBurn": False, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                    "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1, **totals,
                    "assets": [{**asset, "marginAvailable": True}], "positions": positions}
        positions = [self._account_position_v3(p, marks) for p in self.positions.values() if p.amount]
        return {**totals, "assets": [asset], "positions": positions}

    def _account_position_v2(self, p: Position, marks: dict[str, Decimal]) -> dict:
        mark = marks.get(p.symbol, p.entry_price)
        lev = self.leverage.get(p.symbol, 20)
        return {"symbol": p.symbol, "initialMargin": _money(abs(p.amount) * mark / lev), "maintMargin": "0",
                "unrealizedProfit": _money(p.unrealized(mark)), "positionInitialMargin": _money(abs(p.amount) * mark / lev),
                "openOrderInitialMargin": "0", "leverage": str(lev),
                "isolated": self.margin_type.get(p.symbol, "CROSSED") == "ISOLATED",
                "entryPrice": _plain(p.entry_price), "breakEvenPrice": _plain(self.break_even(p)),
                "maxNotional": MAX_NOTIONAL, "bidNotional": "0", "askNotional": "0",
                "positionSide": p.position_side, "positionAmt": self._amt(p), "updateTime": p.update_time}

    def _account_position_v3(self, p: Position, marks: dict[str, Decimal]) -> dict:
        mark = marks.get(p.symbol, p.entry_price)
        margin = abs(p.amount) * mark / self.leverage.get(p.symbol, 20)
        return {"symbol": p.symbol, "positionSide": p.position_side, "positionAmt": self._amt(p),
                "unrealizedProfit": _money(p.unrealized(mark)), "isolatedMargin": "0",
                "notional": _money(p.amount * mark), "isolatedWallet": "0", "initialMargin": _money(margin),
                "maintMargin": _money(margin / 10), "updateTime": p.update_time}

    def break_even(self, p: Position) -> Decimal:
        """Entry price moved by the taker fee of the round trip (Binance's `bep`, approximately)."""
        if not p.amount:
            return ZERO
        sign = 1 if p.amount > 0 else -1
        return p.entry_price * (1 + sign * self.taker_rate)

    def position_risk(self, version: int, marks: dict[str, Decimal], symbols: list[str],
                      with_orders: set[str]) -> list[dict]:
        """v2: every leg of `symbols`; v3: only legs with an amount or symbols with open orders."""
        rows = []
        for symbol in symbols:
            for p in self.legs(symbol):
                if version == 3 and not p.amount and symbol not in with_orders:
                    continue
                mark = marks.get(symbol, p.entry_price)
                row = {"symbol": symbol, "positionSide": p.position_side, "positionAmt": self._amt(p),
                       "entryPrice": _plain(p.entry_price), "breakEvenPrice": _plain(self.break_even(p)),
                       "markPrice": _plain(mark), "unRealizedProfit": _money(p.unrealized(mark)),
                       "liquidationPrice": "0", "notional": _money(p.amount * mark), "isolatedWallet": "0",
                       "isolatedMargin": "0", "updateTime": p.update_time}
                if version == 2:
                    row.update({"leverage": str(self.leverage.get(symbol, 20)), "maxNotionalValue": MAX_NOTIONAL,
                                "marginType": self.margin_type.get(symbol, "CROSSED").lower().replace("crossed", "cross"),
                                "isAutoAddMargin": "false"})
                else:
                    margin = abs(p.amount) * mark / self.leverage.get(symbol, 20)
                    row.update({"marginAsset": "USDT", "initialMargin": _money(margin),
                                "maintMargin": _money(margin / 10), "positionInitialMargin": _money(margin),
                                "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0"})
                rows.append(row)
        return rows

    def account_update(self, positions: list[Position], marks: dict[str, Decimal], event_ms: int,
                       reason: str = "ORDER") -> dict:
        """ACCOUNT_UPDATE with the USDT balance and the changed legs."""
        return {"e": "ACCOUNT_UPDATE", "E": event_ms, "T": event_ms, "a": {
            "m": reason,
            "B": [{"a": "USDT", "wb": _money(self.wallet), "cw": _money(self.wallet), "bc": "0"}],
            "P": [{"s": p.symbol, "pa": self._amt(p), "ep": _plain(p.entry_price),
                   "bep": _plain(self.break_even(p)), "cr": _money(p.realized),
                   "up": _money(p.unrealized(marks.get(p.symbol, p.entry_price))),
                   "mt": self.margin_type.get(p.symbol, "CROSSED").lower().replace("crossed", "cross"),
                   "iw": "0", "ps": p.position_side, "ma": "USDT"} for p in positions]}}
