"""The account reads the truth check needs, on the Binance exchange, against `responses`."""
from __future__ import annotations

from decimal import Decimal as D
from urllib.parse import parse_qs, urlparse

import responses

from tests.test_binance_exchange import BASE, clock, exchange  # noqa: F401 (fixtures)
from trade.account_truth import close_reason_of, is_reduce_only_refusal
from trade.models import AccountPosition, OrderSide

DAY = 24 * 3_600_000


@responses.activate
def test_account_positions_are_our_type_without_flat_legs(exchange):
    responses.get(f"{BASE}/fapi/v3/positionRisk", json=[
        {"symbol": "BTCUSDT", "positionSide": "LONG", "positionAmt": "0.010"},
        {"symbol": "BTCUSDT", "positionSide": "SHORT", "positionAmt": "0.000"}])
    legs = exchange.account_positions("BTCUSDT")
    assert legs == [AccountPosition("BTCUSDT", "LONG", D("0.010"))] and legs[0].side == "LONG"
    assert AccountPosition("BTCUSDT", "BOTH", D("-0.5")).side == "SHORT"


@responses.activate
def test_account_trades_read_seven_day_windows_up_to_now(exchange, clock):
    now_ms = int(clock.t * 1000)
    trade = {"id": 5, "orderId": 77, "side": "SELL", "positionSide": "BOTH", "qty": "0.010", "price": "36000",
             "commission": "0.18", "commissionAsset": "USDT", "realizedPnl": "-1.5", "time": now_ms - DAY}
    responses.get(f"{BASE}/fapi/v1/userTrades", json=[])
    responses.get(f"{BASE}/fapi/v1/userTrades", json=[trade])
    [found] = exchange.account_trades("BTCUSDT", now_ms - 10 * DAY)
    assert (found.order_id, found.side, found.fill.trade_id, found.fill.fee, found.fill.realized_pnl) == \
        ("77", OrderSide.SELL, "5", D("0.18"), D("-1.5"))
    windows = [parse_qs(urlparse(call.request.url).query) for call in responses.calls]
    assert len(windows) == 2
    assert all(int(w["endTime"][0]) - int(w["startTime"][0]) < 7 * DAY for w in windows)


def test_close_reason_of_binance_client_ids():
    assert close_reason_of("autoclose-1764000000") == "liquidation"
    assert close_reason_of("adl_autoclose") == "adl"
    assert close_reason_of("web_abc") == close_reason_of("android_x") == "closed_outside_bot"


def test_reduce_only_refusals_are_recognised_and_others_are_not():
    assert is_reduce_only_refusal("-2022 ReduceOnly Order is rejected.")
    assert is_reduce_only_refusal("-4118 ReduceOnly Order Failed.")
    assert is_reduce_only_refusal("Reduce Only reject")
    assert not is_reduce_only_refusal("-2021 Order would immediately trigger.") and not is_reduce_only_refusal(None)


def test_positions_changed_gives_sizes_per_side_in_one_way_and_hedge_mode():
    from trade.binance.events import AccountUpdate, PositionUpdate
    from runtime.live import positions_changed

    one_way = AccountUpdate("ORDER", 1, None, None, (PositionUpdate("BTCUSDT", D("-0.5"), D("36000"), "BOTH"),))
    hedge = AccountUpdate("ORDER", 1, None, None, (PositionUpdate("BTCUSDT", D("0"), D("0"), "SHORT"),))
    [change] = positions_changed(one_way)
    assert (change.symbol, change.amounts) == ("BTCUSDT", {"LONG": D(0), "SHORT": D("0.5")})
    assert positions_changed(hedge)[0].amounts == {"SHORT": D(0)}
    assert positions_changed(AccountUpdate("FUNDING_FEE", 1, D(1), D(1))) == []
