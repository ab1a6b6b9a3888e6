"""The position state machine: its states, its transition table, and the machine builder.

The table is data, one row per transition, grouped by source state. Rows marked
"exchange surprise" absorb what real exchanges do out of order. Anything not in the
table raises `transitions.MachineError`, naming the trigger and the state.

    IDLE ──submit_entry──▶ ENTERING ──protected──▶ OPEN ──stop_filled / take_profit_filled / exit_requested──▶ CLOSING ──flat──▶ CLOSED
                              └──entry_failed──▶ CLOSED

The machine only keeps the state; the Trader journals each accepted transition and
then performs the action it leads to.
"""
from __future__ import annotations

from enum import Enum

from transitions import Machine


class PositionState(str, Enum):
    IDLE = "IDLE"            # signal accepted by risk, nothing sent
    ENTERING = "ENTERING"    # entry order live; once filled, stop-loss and take-profit being placed
    OPEN = "OPEN"            # position held, stop-loss and take-profit live on the exchange
    CLOSING = "CLOSING"      # position being flattened, sibling orders being cancelled
    CLOSED = "CLOSED"        # final: realized PnL and fees recorded


IDLE, ENTERING, OPEN, CLOSING, CLOSED = (
    PositionState.IDLE, PositionState.ENTERING, PositionState.OPEN, PositionState.CLOSING, PositionState.CLOSED)

TRANSITIONS: list[dict] = [
    # from IDLE
    {"trigger": "submit_entry", "source": IDLE, "dest": ENTERING},
    {"trigger": "abandon", "source": IDLE, "dest": CLOSED},  # found IDLE on restart: nothing was sent
    # from ENTERING
    {"trigger": "entry_partially_filled", "source": ENTERING, "dest": ENTERING},
    {"trigger": "entry_filled", "source": ENTERING, "dest": ENTERING},  # stop-loss and take-profit go out now
    {"trigger": "protected", "source": ENTERING, "dest": OPEN},
    {"trigger": "protection_replaced", "source": ENTERING, "dest": ENTERING},  # a stop or target vanished before OPEN
    {"trigger": "cancel_entry", "source": ENTERING, "dest": ENTERING},  # a LIMIT entry waited too long, or its strategy asked
    {"trigger": "entry_failed", "source": ENTERING, "dest": CLOSED},  # rejected, expired or cancelled with no fill
    {"trigger": "protection_failed", "source": ENTERING, "dest": CLOSING},  # stop refused: close at market
    {"trigger": "close_requested", "source": ENTERING, "dest": CLOSING},  # strategy: rest of the entry cancelled, exit what filled
    # exchange surprise: the stream can report a protective fill before the REST answer confirmed it
    {"trigger": "stop_filled", "source": ENTERING, "dest": CLOSING},
    {"trigger": "take_profit_filled", "source": ENTERING, "dest": CLOSING},
    # from OPEN
    {"trigger": "entry_partially_filled", "source": OPEN, "dest": OPEN},  # a resting limit entry keeps filling
    {"trigger": "entry_filled", "source": OPEN, "dest": OPEN},
    {"trigger": "cancel_entry", "source": OPEN, "dest": OPEN},  # the unfilled rest of a LIMIT entry
    {"trigger": "protection_replaced", "source": OPEN, "dest": OPEN},  # a stop or target vanished and was placed again
    {"trigger": "stop_filled", "source": OPEN, "dest": CLOSING},
    {"trigger": "take_profit_filled", "source": OPEN, "dest": CLOSING},
    {"trigger": "exit_requested", "source": OPEN, "dest": CLOSING},
    {"trigger": "protection_failed", "source": OPEN, "dest": CLOSING},
    {"trigger": "close_requested", "source": OPEN, "dest": CLOSING},  # strategy: exit at market
    {"trigger": "stop_moved", "source": OPEN, "dest": OPEN},  # strategy: old stop cancelled, new one placed (toward profit only)
    # from CLOSING
    # exchange surprise: both legs (or a leg and our exit) can fill before a cancel lands
    {"trigger": "stop_filled", "source": CLOSING, "dest": CLOSING},
    {"trigger": "take_profit_filled", "source": CLOSING, "dest": CLOSING},
    {"trigger": "exit_filled", "source": CLOSING, "dest": CLOSING},
    # exchange surprise: a limit entry can fill after its cancel was sent
    {"trigger": "entry_partially_filled", "source": CLOSING, "dest": CLOSING},
    {"trigger": "entry_filled", "source": CLOSING, "dest": CLOSING},
    {"trigger": "exit_requested", "source": CLOSING, "dest": CLOSING},  # quantity left after the legs: flatten it
    {"trigger": "flat", "source": CLOSING, "dest": CLOSED},
]

TRIGGERS = sorted({row["trigger"] for row in TRANSITIONS})


def new_machine() -> Machine:
    """One machine for every position (`machine.add_model(position, initial=state)`).

    `auto_transitions=False` removes the `to_<state>()` shortcuts that would bypass
    the table; a restored position enters its journaled state without callbacks.
    """
    return Machine(
        model=None,
        states=PositionState,
        transitions=TRANSITIONS,
        initial=IDLE,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )
