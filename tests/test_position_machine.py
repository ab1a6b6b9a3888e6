"""The position state machine: the table is walked, illegal moves raise, CLOSED is final."""
from __future__ import annotations

import pytest
from transitions import MachineError

from trade.position_machine import (CLOSED, ENTERING, IDLE, MOVES, OPEN, TRANSITIONS, TRIGGERS, PositionModel, PositionState,
                                    new_machine, transitions_machine)


class Model(PositionModel):  # a bare model: the machine needs only `state` and the triggers
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


# The table as it stood before the lookup replaced transitions' per-model methods (issue #9):
# (source, trigger, destination), in table order. A change to the table must change this too.
TABLE_BEFORE_9 = [
    ("IDLE", "submit_entry", "ENTERING"), ("IDLE", "abandon", "CLOSED"),
    ("ENTERING", "entry_partially_filled", "ENTERING"), ("ENTERING", "entry_filled", "ENTERING"),
    ("ENTERING", "protected", "OPEN"), ("ENTERING", "protection_replaced", "ENTERING"),
    ("ENTERING", "cancel_entry", "ENTERING"), ("ENTERING", "entry_failed", "CLOSED"),
    ("ENTERING", "protection_failed", "CLOSING"), ("ENTERING", "close_requested", "CLOSING"),
    ("ENTERING", "stop_filled", "CLOSING"), ("ENTERING", "take_profit_filled", "CLOSING"),
    ("OPEN", "entry_partially_filled", "OPEN"), ("OPEN", "entry_filled", "OPEN"), ("OPEN", "cancel_entry", "OPEN"),
    ("OPEN", "protection_replaced", "OPEN"), ("OPEN", "stop_filled", "CLOSING"), ("OPEN", "take_profit_filled", "CLOSING"),
    ("OPEN", "exit_requested", "CLOSING"), ("OPEN", "protection_failed", "CLOSING"), ("OPEN", "close_requested", "CLOSING"),
    ("OPEN", "stop_moved", "OPEN"),
    ("CLOSING", "stop_filled", "CLOSING"), ("CLOSING", "take_profit_filled", "CLOSING"), ("CLOSING", "exit_filled", "CLOSING"),
    ("CLOSING", "entry_partially_filled", "CLOSING"), ("CLOSING", "entry_filled", "CLOSING"),
    ("CLOSING", "exit_requested", "CLOSING"), ("CLOSING", "protection_restored", "OPEN"), ("CLOSING", "flat", "CLOSED"),
    ("ENTERING", "closed_outside", "CLOSING"), ("OPEN", "closed_outside", "CLOSING"), ("CLOSING", "closed_outside", "CLOSING"),
]


def test_machine_table_is_unchanged_since_before_the_lookup():
    assert [(row["source"].value, row["trigger"], row["dest"].value) for row in TRANSITIONS] == TABLE_BEFORE_9
    assert {(s, t): d for s, t, d in TABLE_BEFORE_9} == {(s.value, t): d.value for (s, t), d in MOVES.items()}


class Plain:
    pass


@pytest.mark.parametrize("state", list(PositionState), ids=lambda s: s.value)
def test_machine_lookup_agrees_with_transitions_for_every_trigger(state):
    # transitions itself, one model per trigger, is the reference for the dict lookup
    for trigger in TRIGGERS:
        reference = Plain()
        transitions_machine().add_model(reference, initial=state)
        model = machine_at(state)
        try:
            reference.trigger(trigger)
        except MachineError as refused:
            with pytest.raises(MachineError) as ours:
                model.trigger(trigger)
            assert str(ours.value) == str(refused)
            assert model.state is state
        else:
            assert model.trigger(trigger) is True
            assert model.state is reference.state


def test_machine_illegal_trigger_from_closed_raises_naming_event_and_state():
    model = machine_at(CLOSED)
    with pytest.raises(MachineError, match="Can.t trigger event submit_entry from state CLOSED!"):
        model.submit_entry()
    assert model.state is CLOSED


def test_machine_unknown_trigger_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="Do not know event named 'fly'"):
        machine_at(IDLE).trigger("fly")


def test_machine_model_declares_one_method_per_trigger():
    declared = sorted(name for name, value in vars(PositionModel).items()
                      if callable(value) and not name.startswith("_") and name != "trigger")
    assert declared == TRIGGERS


def test_machine_trigger_method_moves_like_trigger_by_name():
    for row in TRANSITIONS:
        model = machine_at(row["source"])
        getattr(model, row["trigger"])()
        assert model.state is row["dest"]


def test_machine_add_model_restores_state_from_text_and_keeps_it_when_added_again():
    machine, model = new_machine(), Model()
    machine.add_model(model, initial="CLOSING")   # recovery passes the journal's text or the enum
    assert model.state is PositionState.CLOSING
    machine.add_model(model, initial=IDLE)        # transitions' add_model leaves a known model alone
    assert model.state is PositionState.CLOSING


def test_machine_remove_model_not_added_raises():
    machine = new_machine()
    model = Model()
    machine.add_model(model)
    machine.remove_model(model)
    with pytest.raises(ValueError):
        machine.remove_model(model)
