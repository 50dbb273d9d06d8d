"""Runs a declared workflow on one shared `transitions.Machine` per workflow, built at import.

Objects are never added to the machine: each fire runs the event against a tiny snapshot
(state, suspended_from) so the cost is a few microseconds and nothing accumulates per row.
The engine is pure: the caller copies the resulting state onto its model inside its own
database transaction (see `app.core.fire`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from transitions import Machine, MachineError

from app.domain.errors import InvalidTransition, ValidationFailed
from app.domain.procurement import is_valid_cig, normalise_cig, parse_amount
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.spec import DataField, TransitionSpec, WorkflowSpec
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


def _normalise_value(kind: str, value: Any) -> Any:
    """Turn what a form or a caller gives into the value the workflow stores and audits."""
    if value is None:
        return None
    if kind == "lines":
        items = value.splitlines() if isinstance(value, str) else list(value)
        return [str(item).strip() for item in items if str(item).strip()]
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                return text  # refused by validation as "invalid_date"
        return value
    if kind in ID_KINDS:
        return _organisation_id(value)
    if kind == "cig":
        return normalise_cig(str(value))
    if kind == "amount":
        text = str(value).strip()
        return (parse_amount(text) or text) if text else None  # unparsed: "invalid_amount"
    if kind == "irccs_list":
        items = value.replace(",", "\n").splitlines() if isinstance(value, str) else list(value)
        ids = [_organisation_id(item) for item in items if str(item).strip()]
        return list(dict.fromkeys(ids))  # in the order given, once each
    return str(value).strip()


# Kinds whose value is one organisation's id.
ORGANISATION_KINDS = ("regional_body", "irccs")
# Kinds whose value is one row's id: an organisation, or a barrier of the adoption record.
ID_KINDS = (*ORGANISATION_KINDS, "barrier")


def _organisation_id(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return getattr(value, "id", value)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def normalise_transition_data(spec: TransitionSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields the transition declares, cleaned (lines split, dates parsed, ids as int).

    Absent optional fields are left out, so the audit entry carries what was actually given.
    """
    cleaned: dict[str, Any] = {}
    for field in spec.fields:
        value = _normalise_value(field.kind, data.get(field.name))
        if not _is_empty(value):
            cleaned[field.name] = value
    return cleaned


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _field_error(field: DataField, value: Any, today: date | None) -> str | None:
    if field.kind == "choice" and value not in field.choices:
        return "invalid_choice"
    if field.kind == "lines" and not all(str(v).strip() for v in value):
        return "empty_line"
    if field.kind == "date":
        if not isinstance(value, date) or isinstance(value, datetime):
            return "invalid_date"
        if field.future_only and today is not None and value <= today:
            return "not_in_future"
        if field.past_only and today is not None and value > today:
            return "in_future"
    if field.kind in ID_KINDS and not _is_id(value):
        return "invalid_choice"
    if field.kind == "irccs_list" and not all(_is_id(item) for item in value):
        return "invalid_choice"
    if field.kind == "cig" and not is_valid_cig(value):
        return "invalid_cig"
    if field.kind == "amount" and not isinstance(value, Decimal):
        return "invalid_amount"
    return None


def validate_transition_data(
    spec: TransitionSpec, reason: str, data: Mapping[str, Any], today: date | None = None
) -> dict[str, str]:
    """Field errors as codes: {"reason": "required", "outcome": "invalid_choice", ...}.

    Codes: required, invalid_choice, empty_line, invalid_date, not_in_future (a `future_only`
    date on or before `today`), in_future (a `past_only` date after `today`), invalid_cig
    (not 10 upper-case letters and digits), invalid_amount (not a positive amount in euro
    with at most two decimals). Give it
    normalised data (`normalise_transition_data`).
    """
    errors: dict[str, str] = {}
    if spec.reason_required and not (reason or "").strip():
        errors["reason"] = "required"
    for field in spec.fields:
        value = data.get(field.name)
        if _is_empty(value):
            if field.required:
                errors[field.name] = "required"
            continue
        error = _field_error(field, value, today)
        if error:
            errors[field.name] = error
    return errors


def check_data(
    spec: TransitionSpec, reason: str, data: Mapping[str, Any], today: date | None = None
) -> None:
    errors = validate_transition_data(spec, reason, data, today)
    if errors:
        raise ValidationFailed("the action's data is not valid", fields=errors)


REQUEST_ENGINE = WorkflowEngine(REQUEST_WORKFLOW)
ADOPTION_ENGINE = WorkflowEngine(ADOPTION_WORKFLOW)
REIMBURSEMENT_ENGINE = WorkflowEngine(REIMBURSEMENT_WORKFLOW)
