"""Binance stream frames into our value types: kline frames and user-data events.

Pure translation, no I/O. `parse_kline` turns a `<symbol>@kline_<interval>` frame into
a `Candle` and its closed flag. `UserEventTranslator` turns user-data events
(binance.md §3) into `OrderUpdate`s about our own orders, `AccountUpdate`s and
`ListenKeyExpired`. Both accept the combined-stream wrapper `{"stream": .., "data": ..}`.

A frame that lacks a field we need, or carries one we cannot read, raises
`StreamMessageError` naming the field; the stream threads log it and skip the frame.

Conditional orders (stop-loss, take-profit) live on Binance's algo service under our
clientAlgoId. When one triggers, the matching engine creates a *new* order with its
own id and a client id of Binance's choosing (binance.md §3.4 and open point 6), and
that order's fills arrive as ORDER_TRADE_UPDATE. The only link is ALGO_UPDATE's `ai`
(a string) equal to the new order's `i` (an int). The translator remembers that link
and reports the new order's fills and final status under the clientAlgoId, so the
trader sees one order. The fills can arrive before the ALGO_UPDATE that carries `ai`,
so recent ORDER_TRADE_UPDATEs of unknown orders are held back (the last
`HELD_FOREIGN_EVENTS`) and reported when the link arrives.
"""
from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Callable, Union

from ict.models import Candle
from trade.models import ZERO, AccountPosition, OrderStatus, OrderUpdate

log = logging.getLogger(__name__)

HELD_FOREIGN_EVENTS = 200   # unmatched order events kept while an ALGO_UPDATE may still link them to us
REMEMBERED_LINKS = 2000     # triggered-order id → clientAlgoId links kept (a 24/7 bot must not grow forever)
LIQUIDATION_PREFIXES = ("autoclose-", "adl_autoclose", "settlement_autoclose-")

# ORDER_TRADE_UPDATE `X`; EXPIRED_IN_MATCH is an expiry by self-trade prevention
ORDER_STATUSES = {"NEW": OrderStatus.NEW, "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
                  "FILLED": OrderStatus.FILLED, "CANCELED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED,
                  "EXPIRED_IN_MATCH": OrderStatus.EXPIRED}
# ALGO_UPDATE `X`; FINISHED is absent on purpose: the triggered order's own events say filled or not
ALGO_STATUSES = {"NEW": OrderStatus.NEW, "TRIGGERING": OrderStatus.NEW, "TRIGGERED": OrderStatus.NEW,
                 "CANCELED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED, "REJECTED": OrderStatus.REJECTED}


def order_status(text: str) -> OrderStatus:
    """A REST order answer's status as ours, by the stream's map (EXPIRED_IN_MATCH is an expiry);
    a status we do not know counts as live (NEW)."""
    return ORDER_STATUSES.get(text, OrderStatus.NEW)


def account_position(symbol: str, row: dict) -> AccountPosition:
    """One positionRisk row (GET /fapi/v3/positionRisk) as an `AccountPosition` leg."""
    return AccountPosition(symbol, row.get("positionSide", "BOTH"), Decimal(row.get("positionAmt", "0")))


class StreamMessageError(ValueError):
    """A stream frame we cannot read; the message names the field. Log it and skip the frame."""


@dataclass(frozen=True, slots=True)
class ListenKeyExpired:
    """Binance stopped the user-data stream of `listen_key`: get a new key, reconnect, reconcile.

    `at` is the event time in epoch ms. The key is left out of the repr so that logging
    this object never prints it."""

    listen_key: str = field(repr=False)
    at: int


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """One position leg after a change: `amount` in the base asset, signed in one-way
    mode (negative = short); `entry_price` in the quote asset (0 when flat);
    `position_side` BOTH in one-way mode, LONG or SHORT in hedge mode."""

    symbol: str
    amount: Decimal
    entry_price: Decimal
    position_side: str


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """Balances and positions that changed (ACCOUNT_UPDATE), for the console and for checks.

    - `reason`: Binance's `m` (ORDER, FUNDING_FEE, DEPOSIT, ...).
    - `wallet_balance` / `cross_wallet_balance`: the quote asset's (USDT) `wb` / `cw`, or
      None when this event did not change that balance.
    - `positions`: only the legs that changed.
    - `at`: transaction time in epoch ms.
    """

    reason: str
    at: int
    wallet_balance: Decimal | None
    cross_wallet_balance: Decimal | None
    positions: tuple[PositionUpdate, ...] = ()


UserEvent = Union[OrderUpdate, AccountUpdate, ListenKeyExpired]


def unwrap(message: dict) -> dict:
    """The payload of a frame, with or without the combined-stream wrapper."""
    if not isinstance(message, dict):
        raise StreamMessageError(f"frame is a {type(message).__name__}, not a JSON object")
    data = message.get("data")
    if "stream" in message and isinstance(data, dict):
        return data
    return message


def parse_kline(message: dict) -> tuple[Candle, bool]:
    """A kline frame as `(candle, closed)`; `closed` is `k.x` (act on closed candles only)."""
    payload = unwrap(message)
    if payload.get("e") != "kline":
        raise StreamMessageError(f"frame field e is {payload.get('e')!r}, not 'kline'")
    k = _get(payload, "k", "k")
    if not isinstance(k, dict):
        raise StreamMessageError("kline frame field k is not an object")
    closed = _get(k, "x", "k.x")
    if not isinstance(closed, bool):
        raise StreamMessageError(f"kline frame field k.x is {closed!r}, not true or false")
    candle = Candle(_int(k, "t", "k.t"), _float(k, "o", "k.o"), _float(k, "h", "k.h"), _float(k, "l", "k.l"),
                    _float(k, "c", "k.c"), _float(k, "v", "k.v"))
    return candle, closed


class UserEventTranslator:
    """Turns user-data events into `OrderUpdate`s about our orders, `AccountUpdate`s and `ListenKeyExpired`.

    - `is_ours(client_id)`: True for our client order ids and clientAlgoIds (they all
      start with the journal's prefix).
    - `quote_asset`: the asset fees and balances are booked in (USDT). A fill's fee paid in
      another asset (BNB when "pay fees with BNB" is on) is left out of `OrderUpdate.fee`
      with a warning: it is not USDT, and adding it as USDT would be wrong. The USDT books
      then show no fee for that fill; the BNB spent is visible on the account.

    Keep one translator per account for the life of the bot: it remembers which
    triggered orders belong to which of our algo orders. Not thread-safe: call it from
    one thread (the user-data stream's).
    """

    def __init__(self, is_ours: Callable[[str], bool], quote_asset: str = "USDT") -> None:
        self.is_ours = is_ours
        self.quote_asset = quote_asset
        self._algo_of_order: OrderedDict[str, str] = OrderedDict()
        self._held: deque[tuple[str, dict]] = deque(maxlen=HELD_FOREIGN_EVENTS)

    def translate(self, message: dict) -> list[UserEvent]:
        """What one user-data frame means to us (often nothing)."""
        payload = unwrap(message)
        kind = payload.get("e")
        if kind == "ORDER_TRADE_UPDATE":
            return self._order_event(payload)
        if kind == "ALGO_UPDATE":
            return self._algo_event(payload)
        if kind == "ACCOUNT_UPDATE":
            return [self._account_event(payload)]
        if kind == "listenKeyExpired":
            # the event type alone is the message: a missing or odd field must not hide it
            at = _int(payload, "E", "E") if str(payload.get("E", "")).isdigit() else 0
            return [ListenKeyExpired(str(payload.get("listenKey") or ""), at)]
        if kind == "MARGIN_CALL":
            log.warning("margin call from Binance: positions are close to liquidation (%s)", payload.get("p"))
        elif kind == "ACCOUNT_CONFIG_UPDATE":
            log.info("account configuration changed: %s", payload.get("ac") or payload.get("ai"))
        else:
            log.debug("user-data event %r ignored", kind)
        return []

    # ----- ORDER_TRADE_UPDATE -------------------------------------------------------------------
    def _order_event(self, payload: dict) -> list[UserEvent]:
        o = _object(payload, "o")
        client_id, order_id = str(_get(o, "c", "o.c")), str(_get(o, "i", "o.i"))
        algo_client_id = self._algo_of_order.get(order_id)
        if algo_client_id is not None:  # the order a triggered stop or take-profit of ours became
            return [self._order_update(payload, algo_client_id)]
        if self.is_ours(client_id):
            return [self._order_update(payload, client_id)]
        if client_id.startswith(LIQUIDATION_PREFIXES):
            log.warning("%s liquidation/ADL order %s (%s): status %s, filled %s", o.get("s"), order_id, client_id,
                        o.get("X"), o.get("z"))
            return []
        # maybe a triggered algo order of ours whose ALGO_UPDATE (with `ai`) has not come yet
        log.debug("%s order %s (%s) is not ours, or not yet linked to one of our algo orders: held back",
                  o.get("s"), order_id, client_id)
        self._held.append((order_id, payload))
        return []

    def _order_update(self, payload: dict, client_id: str) -> OrderUpdate:
        o = payload["o"]
        symbol = str(_get(o, "s", "o.s"))
        raw_status = _get(o, "X", "o.X")
        if raw_status not in ORDER_STATUSES:
            raise StreamMessageError(f"ORDER_TRADE_UPDATE field o.X is {raw_status!r}, not a known order status")
        status = ORDER_STATUSES[raw_status]
        cumulative, last = _decimal(o, "z", "o.z"), _decimal(o, "l", "o.l")
        fee = _decimal(o, "n", "o.n") if "n" in o else ZERO
        fee_asset = o.get("N") or self.quote_asset  # Binance leaves N out when there is no commission
        if fee and fee_asset != self.quote_asset:
            log.warning("%s order %s paid fee %s %s: not %s, so it is left out of the trade's books", symbol,
                        client_id, o.get("n"), fee_asset, self.quote_asset)
            fee = ZERO
        reason = f"expiry reason {o['er']}" if status is OrderStatus.EXPIRED and o.get("er") not in (None, "0") else None
        return OrderUpdate(
            client_order_id=client_id, symbol=symbol, status=status,
            at=_int(o, "T", "o.T") if "T" in o else _int(payload, "T", "T"),
            exchange_order_id=str(o["i"]), cumulative_quantity=cumulative,
            average_price=_decimal(o, "ap", "o.ap") if cumulative > 0 and "ap" in o else None,
            last_quantity=last, last_price=_decimal(o, "L", "o.L") if last > 0 else None,
            fee=fee, realized_pnl=_decimal(o, "rp", "o.rp") if "rp" in o else ZERO, reason=reason,
            trade_id=str(o["t"]) if last > 0 and o.get("t") not in (None, 0, "0") else None)

    # ----- ALGO_UPDATE --------------------------------------------------------------------------
    def _algo_event(self, payload: dict) -> list[UserEvent]:
        o = _object(payload, "o")
        client_algo_id = str(_get(o, "caid", "o.caid"))
        if not self.is_ours(client_algo_id):
            log.debug("%s algo order %s (%s) is not ours: ignored", o.get("s"), o.get("aid"), client_algo_id)
            return []
        raw_status = _get(o, "X", "o.X")
        if raw_status != "FINISHED" and raw_status not in ALGO_STATUSES:
            raise StreamMessageError(f"ALGO_UPDATE field o.X is {raw_status!r}, not a known algo status")
        events: list[UserEvent] = []
        if raw_status in ALGO_STATUSES:
            status = ALGO_STATUSES[raw_status]
            reason = (o.get("rm") or None) if status is not OrderStatus.NEW else None
            events.append(OrderUpdate(client_algo_id, str(_get(o, "s", "o.s")), status, _int(payload, "T", "T"),
                                      str(o["aid"]) if o.get("aid") is not None else None, reason=reason))
        actual = o.get("ai")
        if actual not in (None, "", 0, "0") and str(actual) not in self._algo_of_order:
            events.extend(self._link(str(actual), client_algo_id))
        return events

    def _link(self, order_id: str, client_algo_id: str) -> list[UserEvent]:
        """Remember that `order_id` works for our algo order; report its held-back events."""
        self._algo_of_order[order_id] = client_algo_id
        while len(self._algo_of_order) > REMEMBERED_LINKS:
            self._algo_of_order.popitem(last=False)
        early = [payload for held_id, payload in self._held if held_id == order_id]
        if early:
            self._held = deque(((i, p) for i, p in self._held if i != order_id), maxlen=HELD_FOREIGN_EVENTS)
            log.debug("algo order %s triggered as order %s: %d earlier event(s) of it reported now", client_algo_id,
                      order_id, len(early))
        return [self._order_update(payload, client_algo_id) for payload in early]

    # ----- ACCOUNT_UPDATE -----------------------------------------------------------------------
    def _account_event(self, payload: dict) -> AccountUpdate:
        a = _object(payload, "a")
        wallet = cross = None
        for index, balance in enumerate(a.get("B") or []):
            if balance.get("a") == self.quote_asset:
                wallet, cross = _decimal(balance, "wb", f"a.B[{index}].wb"), _decimal(balance, "cw", f"a.B[{index}].cw")
        positions = tuple(
            PositionUpdate(str(_get(p, "s", f"a.P[{i}].s")), _decimal(p, "pa", f"a.P[{i}].pa"),
                           _decimal(p, "ep", f"a.P[{i}].ep"), str(p.get("ps", "BOTH")))
            for i, p in enumerate(a.get("P") or []))
        at = _int(payload, "T", "T") if "T" in payload else _int(payload, "E", "E")
        return AccountUpdate(str(a.get("m", "")), at, wallet, cross, positions)


# ----- field readers that name what is wrong ------------------------------------------------------
def _get(container: dict, key: str, path: str):
    if key not in container or container[key] is None:
        raise StreamMessageError(f"frame has no field {path}")
    return container[key]


def _object(payload: dict, key: str) -> dict:
    value = _get(payload, key, key)
    if not isinstance(value, dict):
        raise StreamMessageError(f"{payload.get('e')} field {key} is not an object")
    return value


def _int(container: dict, key: str, path: str) -> int:
    value = _get(container, key, path)
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)  # listenKeyExpired's E is a string in the docs and an int in the SDK
    except (TypeError, ValueError):
        raise StreamMessageError(f"frame field {path} is {value!r}, not a whole number") from None


def _decimal(container: dict, key: str, path: str) -> Decimal:
    value = _get(container, key, path)
    try:
        if isinstance(value, (bool, float)):  # Binance sends money as strings; a float has lost digits
            raise InvalidOperation
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise StreamMessageError(f"frame field {path} is {value!r}, not a decimal number") from None
    if not number.is_finite():
        raise StreamMessageError(f"frame field {path} is {value!r}, not a finite number")
    return number


def _float(container: dict, key: str, path: str) -> float:
    return float(_decimal(container, key, path))
