"""The position state machine: the table is walked, illegal moves raise, CLOSED is final."""
from __future__ import annotations

import pytest
from transitions import MachineError

from trade.position_machine import CLOSED, ENTERING, IDLE, OPEN, TRANSITIONS, TRIGGERS, PositionState, new_machine


class Model:
    pass


def machine_at(state):
    machine = new_machine()
    model = Model()
    machine.add_model(model, initial=state)
    return model


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda r: f"{r['source'].value}-{r['trigger']}")
def test_machine_every_declared_transition_moves_to_its_destination(row):
    model = machine_at(row["source"])
    model.trigger(row["trigger"])
    assert model.state is row["dest"]


def test_machine_every_undeclared_trigger_raises():
    declared = {(row["source"], row["trigger"]) for row in TRANSITIONS}
    refused = 0
    for state in PositionState:
        for trigger in TRIGGERS:
            if (state, trigger) in declared:
                continue
            model = machine_at(state)
            with pytest.raises(MachineError):
                model.trigger(trigger)
            assert model.state is state  # a refused trigger leaves no trace
            refused += 1
    assert refused > 30


def test_machine_closed_is_final():
    assert not [row for row in TRANSITIONS if row["source"] is CLOSED]


def test_machine_every_state_is_reachable_from_idle():
    reached, frontier = {IDLE}, [IDLE]
    while frontier:
        state = frontier.pop()
        for row in TRANSITIONS:
            if row["source"] is state and row["dest"] not in reached:
                reached.add(row["dest"])
                frontier.append(row["dest"])
    assert reached == set(PositionState)


def test_machine_happy_path_ends_closed():
    model = machine_at(IDLE)
    for trigger in ("submit_entry", "entry_filled", "protected", "take_profit_filled", "flat"):
        model.trigger(trigger)
    assert model.state is CLOSED


def test_machine_open_position_cannot_skip_closing():
    model = machine_at(OPEN)
    with pytest.raises(MachineError, match="flat"):
        model.flat()


def test_machine_has_no_auto_to_state_shortcuts():
    assert not hasattr(machine_at(ENTERING), "to_OPEN")
