"""Runs a declared workflow on one shared `transitions.Machine` per workflow, built at import.

Objects are never added to the machine: each fire runs the event against a tiny snapshot
(state, suspended_from) so the cost is a few microseconds and nothing accumulates per row.
The engine is pure: the caller copies the resulting state onto its model inside its own
database transaction (see `app.services.workflow`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from app.domain.errors import InvalidTransition, ValidationFailed
from app.workflow.definitions import ADOPTION_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.spec import TransitionSpec, WorkflowSpec
from app.workflow.states import POSITIVE_OUTCOMES


@dataclass(slots=True)
class Snapshot:
    """What the machine sees of an object."""

    state: str
    suspended_from: str | None = None


def _outcome(event) -> str | None:
    return (event.kwargs.get("data") or {}).get("outcome")


def _condition_for(spec: TransitionSpec) -> Callable[[Any], bool]:
    if spec.condition == "positive_outcome":
        return lambda event: _outcome(event) in POSITIVE_OUTCOMES
    if spec.condition == "negative_outcome":
        return lambda event: _outcome(event) not in POSITIVE_OUTCOMES
    if spec.condition == "resumes_to_dest":
        return lambda event, dest=spec.dest: event.model.suspended_from == dest
    raise ValueError(f"unknown condition {spec.condition!r} on {spec.trigger}")


class WorkflowEngine:
    def __init__(self, spec: WorkflowSpec):
        self.spec = spec
        self.machine = Machine(
            model=None,
            states=list(spec.states),
            initial=spec.initial,
            transitions=[self._machine_transition(t) for t in spec.transitions],
            auto_transitions=False,
            send_event=True,
        )
        self._by_source: dict[tuple[str, str], list[TransitionSpec]] = {}
        for transition in spec.transitions:
            for source in transition.sources:
                self._by_source.setdefault((transition.trigger, source), []).append(transition)

    @staticmethod
    def _machine_transition(spec: TransitionSpec) -> dict:
        definition = {
            "trigger": spec.trigger,
            "source": list(spec.sources),
            # Internal transitions stay put without running exit/enter.
            "dest": None if spec.internal else spec.dest,
        }
        if spec.condition:
            definition["conditions"] = [_condition_for(spec)]
        return definition

    def candidates(self, trigger: str, state: str) -> list[TransitionSpec]:
        return self._by_source.get((trigger, state), [])

    def available(self, state: str, role: str) -> list[TransitionSpec]:
        """The transitions `role` may fire from `state`, one per trigger."""
        seen: dict[str, TransitionSpec] = {}
        for transition in self.spec.transitions:
            if state in transition.sources and role in transition.roles:
                seen.setdefault(transition.trigger, transition)
        return list(seen.values())

    def apply(self, snapshot: Snapshot, trigger: str, data: Mapping[str, Any]) -> TransitionSpec:
        """Move `snapshot` along `trigger`; return the transition taken (or InvalidTransition)."""
        origin = snapshot.state
        candidates = self.candidates(trigger, origin)
        if not candidates or trigger not in self.machine.events:
            raise InvalidTransition(
                "this action is not possible in the current state", trigger=trigger, state=origin
            )
        try:
            moved = self.machine.events[trigger].trigger(snapshot, data=dict(data))
        except MachineError as error:
            raise InvalidTransition(str(error), trigger=trigger, state=origin) from error
        if not moved:
            raise InvalidTransition(
                "this action is not possible with the data given", trigger=trigger, state=origin
            )
        dest = snapshot.state
        for candidate in candidates:
            if (candidate.internal and dest == origin) or candidate.dest == dest:
                return candidate
        raise InvalidTransition("no matching transition", trigger=trigger, state=origin)


def validate_transition_data(
    spec: TransitionSpec, reason: str, data: Mapping[str, Any]
) -> dict[str, str]:
    """Field errors as codes: {"reason": "required", "outcome": "invalid_choice", ...}."""
    errors: dict[str, str] = {}
    if spec.reason_required and not (reason or "").strip():
        errors["reason"] = "required"
    for field in spec.fields:
        value = data.get(field.name)
        empty = value is None or value == "" or value == [] or value == ()
        if empty:
            if field.required:
                errors[field.name] = "required"
            continue
        if field.kind == "choice" and value not in field.choices:
            errors[field.name] = "invalid_choice"
        elif field.kind == "lines" and not all(str(v).strip() for v in value):
            errors[field.name] = "empty_line"
    return errors


def check_data(spec: TransitionSpec, reason: str, data: Mapping[str, Any]) -> None:
    errors = validate_transition_data(spec, reason, data)
    if errors:
        raise ValidationFailed("the action's data is not valid", fields=errors)


REQUEST_ENGINE = WorkflowEngine(REQUEST_WORKFLOW)
ADOPTION_ENGINE = WorkflowEngine(ADOPTION_WORKFLOW)
