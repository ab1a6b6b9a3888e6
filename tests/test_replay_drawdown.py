"""The replay's drawdown: tracked in floats, yet the very Decimal the plain Decimal loop gives."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest

from ict.models import Candle
from runtime.replay import Drawdown
from trade.models import ZERO


def plain(starting, equities):
    peak, largest = starting, ZERO
    for equity in equities:
        peak = max(peak, equity)
        largest = max(largest, peak - equity)
    return largest


def tracked(starting, equities, error=1e-9):
    drawdown, asked = Drawdown(starting), []

    def exact_of(equity):
        return lambda: asked.append(equity) or equity

    for equity in equities:
        drawdown.update(float(equity), error, exact_of(equity))
    return drawdown.largest, asked


@pytest.mark.parametrize("seed", range(5))
def test_drawdown_random_equity_walk_equals_the_decimal_loop_digit_for_digit(seed):
    rng = random.Random(seed)
    equity, equities = Decimal("10000"), []
    for _ in range(5000):
        equity += Decimal(rng.randint(-10_000, 10_000)) / 10_000 * rng.choice((1, 10, 100))
        equities.append(equity)
    largest, asked = tracked(Decimal("10000"), equities)
    assert format(largest, "f") == format(plain(Decimal("10000"), equities), "f")
    assert len(asked) < len(equities)   # the Decimal equity is not built on every candle


def test_drawdown_ties_in_other_spellings_keep_the_first_decimal_as_the_plain_loop_does():
    # 10000.00 equals the starting 10000: max() keeps the first, and so must the tracker
    equities = [Decimal("10000.00"), Decimal("9999.50"), Decimal("10000.000"), Decimal("9999.5000")]
    largest, _ = tracked(Decimal("10000"), equities)
    assert format(largest, "f") == format(plain(Decimal("10000"), equities), "f") == "0.50"


def test_drawdown_lows_a_float_cannot_tell_apart_are_checked_exactly():
    # both lows, and both falls, are the same floats: the later, deeper one must still win
    equities = [Decimal("9000.00000000000001"), Decimal("9500"), Decimal("9000.000000000000001")]
    largest, _ = tracked(Decimal("10000"), equities, error=0.0)
    assert largest == Decimal("999.999999999999999")


def test_drawdown_flat_equity_below_the_peak_asks_for_no_decimal():
    equities = [Decimal("9000")] + [Decimal("9500")] * 100
    largest, asked = tracked(Decimal("10000"), equities)
    assert largest == Decimal("1000") and asked == [Decimal("9000")]


def test_drawdown_estimates_of_the_simulated_exchange_lie_within_their_bound_of_the_decimals(day_candles):
    from tests.test_simulated_exchange import exchange, long_at_100

    sim, _ = long_at_100()
    flat, _ = exchange()
    for candle in day_candles[:200]:
        for book in (sim, flat):
            book.on_candle(Candle(candle.open_time, candle.open / 300, candle.high / 300, candle.low / 300,
                                  candle.close / 300, 1), "BTCUSDT")
            for (estimate, error), exact in ((book.equity_estimate(), book.equity()),
                                             (book.wallet_estimate(), book.wallet_balance())):
                assert abs(Decimal(estimate) - exact) <= Decimal(error) and 0 < error < 1e-6
    assert sim.equity() != sim.wallet_balance()   # the long was held throughout
