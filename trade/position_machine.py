"""The position state machine: its states, its transition table, and the machine builder.

The table is data, one row per transition, grouped by source state. Rows marked
"exchange surprise" absorb what real exchanges do out of order. Anything not in the
table raises `transitions.MachineError`, naming the trigger and the state.

    IDLE ──submit_entry──▶ ENTERING ──protected──▶ OPEN ──stop_filled / take_profit_filled / exit_requested──▶ CLOSING ──flat──▶ CLOSED
                                                     ◀──protection_restored (a target filled in part)──
                              └──entry_failed──▶ CLOSED

The machine only keeps the state; the Trader journals each accepted transition and
then performs the action it leads to.

`transitions` defines and validates the table: a `transitions.Machine` is built from it once,
at import, and the lookup `MOVES` is read off that machine's events. A position moves through
`PositionModel.trigger`, one dict lookup, instead of the per-model methods and callback
dispatch `transitions` would attach to every position (6 % of a replay's time, issue #9).
`PositionModel` declares `state` and one method per trigger so a type checker sees them;
`tests/test_position_machine.py` checks every (state, trigger) pair against `transitions` itself.
"""
from __future__ import annotations

from enum import Enum

from transitions import Machine, MachineError


class PositionState(str, Enum):
    IDLE = "IDLE"            # signal accepted by risk, nothing sent
    ENTERING = "ENTERING"    # entry order live; once filled, stop-loss and take-profit being placed
    OPEN = "OPEN"            # position held, stop-loss and take-profit live on the exchange
    CLOSING = "CLOSING"      # position being flattened, sibling orders being cancelled
    CLOSED = "CLOSED"        # final: realized PnL and fees recorded


IDLE, ENTERING, OPEN, CLOSING, CLOSED = (
    PositionState.IDLE, PositionState.ENTERING, PositionState.OPEN, PositionState.CLOSING, PositionState.CLOSED)

TRANSITIONS: list[dict[str, str | PositionState]] = [
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
    {"trigger": "protection_restored", "source": CLOSING, "dest": OPEN},  # a target filled in part: a new one for the rest
    {"trigger": "flat", "source": CLOSING, "dest": CLOSED},
    # exchange surprise: the account shows the position closed (or reduced) by hand, a liquidation or an ADL
    {"trigger": "closed_outside", "source": ENTERING, "dest": CLOSING},
    {"trigger": "closed_outside", "source": OPEN, "dest": CLOSING},
    {"trigger": "closed_outside", "source": CLOSING, "dest": CLOSING},
]

TRIGGERS = sorted({row["trigger"] for row in TRANSITIONS})




def transitions_machine() -> Machine:
    """The table as a `transitions.Machine` (model=None): the source of `MOVES`, and the
    reference the tests compare the lookup with.

    `auto_transitions=False` removes the `to_<state>()` shortcuts that would bypass the table.
    Raises ValueError if a row names a state that is not a `PositionState`.
    """
    return Machine(
        model=None,
        states=PositionState,
        transitions=TRANSITIONS,
        initial=IDLE,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def _moves(machine: Machine) -> dict[tuple[PositionState, str], PositionState]:
    """(source, trigger) -> destination, read off the machine's events (states are keyed by name)."""
    moves: dict[tuple[PositionState, str], PositionState] = {}
    for trigger, event in machine.events.items():
        for source, rows in event.transitions.items():
            if len(rows) != 1:  # no conditions: transitions would silently take the first row
                raise ValueError(f"the position table has {len(rows)} rows for {trigger} from {source}; keep one")
            moves[PositionState[source], trigger] = PositionState[rows[0].dest or source]  # no dest: stays (transitions' rule)
    return moves


MOVES = _moves(transitions_machine())
_KNOWN_TRIGGERS = frozenset(TRIGGERS)


class PositionModel:
    """The machine's side of a position: its `state` and one method per trigger.

    A model gets its state from `PositionMachine.add_model`. Each trigger method moves along the
    table row for (state, trigger) and returns True; a trigger the table does not allow from the
    current state raises `transitions.MachineError` ("Can't trigger event flat from state OPEN!",
    the text `transitions` gives) and leaves the state unchanged. An unknown trigger name raises
    AttributeError, as in `transitions`.
    """

    state: PositionState

    def trigger(self, name: str) -> bool:
        """Fire the trigger called `name` (see the class docstring for the errors)."""
        try:
            self.state = MOVES[self.state, name]
        except KeyError:
            if name not in _KNOWN_TRIGGERS:
                raise AttributeError(f"Do not know event named '{name}'.") from None
            raise MachineError(f"Can't trigger event {name} from state {self.state.name}!") from None
        return True

    # one method per trigger of the table (tests check the two lists agree)
    def abandon(self) -> bool: return self.trigger("abandon")
    def cancel_entry(self) -> bool: return self.trigger("cancel_entry")
    def close_requested(self) -> bool: return self.trigger("close_requested")
    def closed_outside(self) -> bool: return self.trigger("closed_outside")
    def entry_failed(self) -> bool: return self.trigger("entry_failed")
    def entry_filled(self) -> bool: return self.trigger("entry_filled")
    def entry_partially_filled(self) -> bool: return self.trigger("entry_partially_filled")
    def exit_filled(self) -> bool: return self.trigger("exit_filled")
    def exit_requested(self) -> bool: return self.trigger("exit_requested")
    def flat(self) -> bool: return self.trigger("flat")
    def protected(self) -> bool: return self.trigger("protected")
    def protection_failed(self) -> bool: return self.trigger("protection_failed")
    def protection_replaced(self) -> bool: return self.trigger("protection_replaced")
    def protection_restored(self) -> bool: return self.trigger("protection_restored")
    def stop_filled(self) -> bool: return self.trigger("stop_filled")
    def stop_moved(self) -> bool: return self.trigger("stop_moved")
    def submit_entry(self) -> bool: return self.trigger("submit_entry")
    def take_profit_filled(self) -> bool: return self.trigger("take_profit_filled")


class PositionMachine:
    """The registry of positions the Trader drives: `add_model` / `remove_model` as in `transitions`.

    `add_model(position, initial=state)` sets the state without callbacks (a restored position
    enters its journaled state); adding a model twice leaves its state alone; removing a model
    that was not added raises ValueError. The moves themselves are `PositionModel.trigger`.
    """

    def __init__(self) -> None:
        self.models: dict[int, PositionModel] = {}

    def add_model(self, model: PositionModel, initial: PositionState | str = IDLE) -> None:
        if id(model) not in self.models:
            model.state = PositionState(initial)
            self.models[id(model)] = model

    def remove_model(self, model: PositionModel) -> None:
        if self.models.pop(id(model), None) is None:
            raise ValueError(f"{model!r} is not a model of this machine")


def new_machine() -> PositionMachine:
    """One machine for every position (`machine.add_model(position, initial=state)`)."""
    return PositionMachine()
