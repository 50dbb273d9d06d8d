"""Firing transitions: the only way a request, adoption record or reimbursement case changes
state.

INTERFACE (the screens and the demo data code against these names):

fire(obj, trigger, actor, now, *, reason="", expected_version=None, ip=None, **data)
    obj is a DeviceRequest, an Adoption or a Reimbursement (a region's tariff case); actor a
    User or None for the system (lapses).
    Checks visibility (NotFound), the role and the object-level party (PermissionDenied),
    `expected_version` (Conflict), the transition from this state (InvalidTransition), the data
    (ValidationFailed with field codes), then every guard the transition declares, state and
    data guards alike (`app.core.guards`: GuardFailed for the first that fails); moves the
    state; closes/opens StageRecord rows with due dates; sets side data (assigned body,
    recommendation, suspended_from, receipt number on submit, adoption records on a positive
    publish ...); writes one audit entry; bumps the version. Flushes; never commits. On any error
    the database and the in-memory object are as they were. Returns the AuditEntry.

available_transitions(actor, obj) -> list[TransitionSpec]
    What this actor may fire on this object in its state (same state, role and party
    predicates as `fire`; guards not checked).

action_availability(actor, obj) -> list[ActionAvailability]
    The same actions, each with `blocked_by`: the GuardFailures of its state guards (the very
    checks `fire` runs), so the screens show a blocked action with its reasons.

stage_timeline(request, now) -> list[StageRow]
    Each stage visit: state, entered_at, left_at, due_at, gross_days, net_days, clock_stopped,
    late (bool), near_due, days_late, is_open, for the request page and reports (terminal
    states: gross_days and net_days None).

Also: can_see(actor, obj, specs=()); open_stage(request) -> StageRecord | None;
receipt_number(request_id, submitted_at) -> "HTA-2026-000123".

Errors carry details: GuardFailed.details "guard", "code", "field", "failure" (the GuardFailure)
and "missing" (list of MissingItem for "dossier_complete"),
ValidationFailed.details["fields"] ({field: code}: required, invalid_choice, empty_line,
invalid_date, not_in_future), InvalidTransition.details trigger/state.

Deadlines: a new stage is due at the end (23:59:59 Europe/Rome) of the day given by the
effective deadline (`app.core.deadline_settings.effective_deadlines`); adoption monitoring
ends on the recommendation's review date when one is given; `answer_information` and `resume`
(TransitionSpec.continues_clock) give the resumed stage the time it had left when it was
interrupted, so a clock stop or a suspension never resets nor eats into a deadline.

How `fire` stays correct under failure and concurrency:
- the object's row is re-read under a row lock (SELECT ... FOR UPDATE; on SQLite the write
  transaction is already exclusive, BEGIN IMMEDIATE) and its version compared with the one the
  caller saw, so of two concurrent fires the second gets Conflict, never a second transition;
- every write happens inside a SAVEPOINT; if anything raises, the savepoint is rolled back and
  the object's column values are put back as they were, so the caller's transaction and the
  in-memory object both look untouched; SQLAlchemy's StaleDataError becomes Conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.core import guards, transition_hooks
from app.core.audit import record_audit
from app.core.deadline_settings import effective_deadlines
from app.core.guards import GuardFailure
from app.core.locking import check_version, lock
from app.domain import permissions
from app.domain.deadlines import (
    ROME,
    DeadlineRule,
    continued_due_at,
    due_at,
    end_of_day,
    on_manufacturer_clock,
    rome_date,
    stage_timing,
)
from app.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.extensions import db
from app.models import (
    Adoption,
    AuditEntry,
    DesignatedCentre,
    DeviceRequest,
    Organisation,
    Procurement,
    Recommendation,
    Reimbursement,
    StageRecord,
    User,
)
from app.requests.queries import outcome_of
from app.workflow.engine import (
    ADOPTION_ENGINE,
    REIMBURSEMENT_ENGINE,
    REQUEST_ENGINE,
    Snapshot,
    WorkflowEngine,
    check_data,
    normalise_transition_data,
)
from app.workflow.facts import REIMBURSEMENT, facts
from app.workflow.spec import TransitionSpec
from app.workflow.states import CLOCK_STOP_STATES, POSITIVE_OUTCOMES, TERMINAL_REQUEST_STATES

RECEIPT_PREFIX = "HTA"


# --- What kind of object ---------------------------------------------------------------------


def _is_adoption(obj) -> bool:
    return isinstance(obj, Adoption)


def _is_reimbursement(obj) -> bool:
    return isinstance(obj, Reimbursement)


def engine_for(obj) -> WorkflowEngine:
    if _is_reimbursement(obj):
        return REIMBURSEMENT_ENGINE
    return ADOPTION_ENGINE if _is_adoption(obj) else REQUEST_ENGINE


def entity_type(obj) -> str:
    """The audit entry's entity type (also the kind the error details and pages use)."""
    if _is_reimbursement(obj):
        return "reimbursement"
    return "adoption" if _is_adoption(obj) else "request"


def _request_id_of(obj) -> int:
    return obj.id if isinstance(obj, DeviceRequest) else obj.request_id


def _kind(obj) -> str:
    return entity_type(obj)


def _noun(obj) -> str:
    if _is_reimbursement(obj):
        return "reimbursement case"
    return "adoption record" if _is_adoption(obj) else "request"


# --- Who may do what -------------------------------------------------------------------------


def can_see(actor, obj, specs: Iterable[TransitionSpec] = ()) -> bool:
    """The visibility rule `fire` applies (the system sees everything), for taking one of
    `specs` (one trigger's) when given."""
    if actor is None:
        return True
    if _is_adoption(obj):
        # The region's users reach the record only for what their role holds on it (resolving
        # the barriers the region owns, from the barrier's page): they do not read the record,
        # so its lists are empty to them and its other actions not found.
        roles = frozenset().union(*(spec.roles for spec in specs))
        return permissions.can_reach_adoption(actor, obj, roles)
    if _is_reimbursement(obj):
        return can_see_reimbursement(actor, obj)
    # Only an IRCCS's view depends on the outcome: spare the other roles the query.
    outcome = outcome_of(obj) if actor.role == "irccs" else None
    return permissions.can_view_request(actor, obj, outcome)


def available_transitions(actor, obj) -> list[TransitionSpec]:
    """What `actor` may fire on `obj` now: one spec per trigger, in declaration order.

    State, role and party are checked as `fire` does; guards and data are not
    (`action_availability` adds the guards that block each action). For `resume` the spec
    returned is the one leading back to the state the request left; for `publish` the first of
    its two specs (the destination depends on the outcome chosen in the form).
    """
    transitions = engine_for(obj).spec.transitions
    # Who does not see the object may still reach it for some actions (the region's users, to
    # resolve a barrier of an adoption record): those alone, as `fire` takes them.
    sees_it = can_see(actor, obj)
    if not sees_it and not can_see(actor, obj, transitions):
        return []
    available: dict[str, TransitionSpec] = {}
    for spec in transitions:
        if obj.state not in spec.sources or spec.trigger in available:
            continue
        if spec.condition == "resumes_to_dest" and spec.dest != obj.suspended_from:
            continue
        if not sees_it and not can_see(actor, obj, (spec,)):
            continue
        if permissions.can_fire(actor, obj, spec):
            available[spec.trigger] = spec
    return list(available.values())


@dataclass(frozen=True)
class ActionAvailability:
    """An action `actor` may fire on `obj` in its state, and what blocks it now (the state
    guards that fail, in declaration order; empty when `fire` would take it)."""

    spec: TransitionSpec
    blocked_by: tuple[GuardFailure, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)


def action_availability(actor, obj, now: datetime | None = None) -> list[ActionAvailability]:
    """Every action of `available_transitions`, each with its blocking reasons: the same state
    guards `fire` checks (data guards depend on the data typed, so only `fire` sees them), at
    `now` (the moment the list is drawn when not given)."""
    now = now or datetime.now(UTC)
    return [
        ActionAvailability(spec, tuple(guards.state_failures(spec, obj, actor, now)))
        for spec in available_transitions(actor, obj)
    ]


def can_see_reimbursement(actor, case: Reimbursement) -> bool:
    """`permissions.can_view_reimbursement` with what it needs read from the database: the
    actor's region, the device's manufacturer, and (for an IRCCS) whether it has an adoption
    record for the request (one statement)."""
    has_record = Adoption.irccs_id == actor.organisation_id
    row = db.session.execute(
        select(
            Organisation.region,
            DeviceRequest.manufacturer_id,
            select(Adoption.id)
            .where(Adoption.request_id == case.request_id, has_record)
            .exists()
            .label("has_record"),
        )
        .select_from(DeviceRequest)
        .outerjoin(User, User.id == actor.id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(DeviceRequest.id == case.request_id)
    ).one_or_none()
    if row is None:
        return False
    return permissions.can_view_reimbursement(
        actor,
        case,
        actor_region=row.region,
        manufacturer_id=row.manufacturer_id,
        has_adoption_record=bool(row.has_record),
    )


# --- fire ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A transition checked and ready to be written."""

    spec: TransitionSpec
    origin: str
    dest: str
    data: dict[str, Any]


def fire(
    obj,
    trigger: str,
    actor,
    now: datetime,
    *,
    reason: str = "",
    expected_version: int | str | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditEntry:
    """Fire `trigger` on `obj` as `actor` at `now` (see the module docstring)."""
    reason = (reason or "").strip()
    lock(obj, _noun(obj))
    plan = _check(obj, trigger, actor, now, reason, expected_version, data)
    saved = _remember(obj)
    try:
        with db.session.begin_nested():
            extra = _apply(obj, plan, now)
            workflow_name = engine_for(obj).spec.name
            extra |= transition_hooks.run_audit_data(
                workflow_name, obj, plan.spec, actor, now, plan.data
            )
            entry = record_audit(
                actor,
                entity_type=entity_type(obj),
                entity_id=obj.id,
                request_id=_request_id_of(obj),
                action=trigger,
                now=now,
                from_state=plan.origin,
                to_state=plan.dest,
                reason=reason,
                data=plan.data | extra,
                ip=ip,
            )
            transition_hooks.run_after(workflow_name, obj, plan.spec, actor, now, plan.data, entry)
    except StaleDataError as error:
        _restore(obj, saved)
        raise Conflict(f"someone else changed this {_noun(obj)}; reload") from error
    except BaseException:
        _restore(obj, saved)
        raise
    return entry


def _check(obj, trigger, actor, now, reason, expected_version, data) -> _Plan:
    engine = engine_for(obj)
    specs = engine.spec.by_trigger(trigger)
    if not can_see(actor, obj, specs):
        raise NotFound(f"{_noun(obj)} not found", denied=(_kind(obj), obj.id))
    if not specs:
        raise InvalidTransition("unknown action", trigger=trigger, state=obj.state)
    if not any(permissions.can_fire(actor, obj, spec) for spec in specs):
        raise PermissionDenied(
            f"you may not do this on this {_noun(obj)}",
            trigger=trigger,
            denied=(_kind(obj), obj.id),
        )
    check_version(obj, expected_version, _noun(obj))
    candidates = engine.candidates(trigger, obj.state)
    if not candidates:
        raise InvalidTransition(
            "this action is not possible in the current state", trigger=trigger, state=obj.state
        )
    cleaned = normalise_transition_data(candidates[0], data)
    check_data(candidates[0], reason, cleaned, today=rome_date(now))
    _check_references(cleaned)
    snapshot = Snapshot(obj.state, getattr(obj, "suspended_from", None))
    spec = engine.apply(snapshot, trigger, cleaned)
    guards.check(spec, obj, actor, cleaned, now)
    transition_hooks.run_before(engine.spec.name, obj, spec, actor, now, cleaned)
    return _Plan(spec, obj.state, snapshot.state, cleaned)


# Data fields naming organisations, and the kind each must be (active).
ORGANISATION_FIELDS = {
    "regional_body": "regional_body",
    "irccs": "irccs",
    "designated_centres": "irccs",
}


def _check_references(data: dict[str, Any]) -> None:
    """Every organisation the data names exists, is active and of the kind the field wants."""
    for name, kind in ORGANISATION_FIELDS.items():
        value = data.get(name)
        if value is None:
            continue
        ids = value if isinstance(value, list) else [value]
        found = db.session.scalars(
            select(Organisation.id).where(
                Organisation.id.in_(ids), Organisation.kind == kind, Organisation.active.is_(True)
            )
        ).all()
        if len(set(found)) != len(set(ids)):
            raise ValidationFailed(
                "the action's data is not valid", fields={name: "invalid_choice"}
            )


# --- Keeping the in-memory object consistent on failure ---------------------------------------


def _remember(obj) -> dict[str, Any]:
    state = inspect(obj)
    return {attr.key: state.dict.get(attr.key) for attr in state.mapper.column_attrs}


def _restore(obj, saved: dict[str, Any]) -> None:
    """Put the column values back without marking anything dirty; relationships that the
    transition may have touched are expired so they reload as the database has them."""
    for key, value in saved.items():
        set_committed_value(obj, key, value)
    relationships = [rel.key for rel in inspect(obj).mapper.relationships]
    db.session.expire(obj, relationships)


# --- Writing a transition ----------------------------------------------------------------------


def _apply(obj, plan: _Plan, now: datetime) -> dict[str, Any]:
    """Move the state and write the side data; returns extra data for the audit entry."""
    if _is_adoption(obj):
        _apply_adoption(obj, plan, now)
        return {}
    if _is_reimbursement(obj):
        _apply_reimbursement(obj, plan, now)
        return {}
    # Read what the stage change needs before writing anything, so that the writes go to the
    # database together in one flush (the audit entry's) rather than one flush per query.
    starts_visit = not plan.spec.internal or plan.spec.hands_back_clock
    stage_move = _plan_stage_move(obj, plan, now) if starts_visit else None
    obj.state = plan.dest
    # Touch the row so that every transition, internal ones too, bumps the version.
    obj.updated_at = now
    effect = REQUEST_EFFECTS.get(plan.spec.trigger)
    extra = effect(obj, plan, now) if effect else {}
    if stage_move is not None:
        stage_move.apply(now)
    return extra or {}


def _apply_adoption(adoption: Adoption, plan: _Plan, now: datetime) -> None:
    adoption.state = plan.dest
    trigger = plan.spec.trigger
    if plan.spec.internal:
        # Data recorded within the state (the award): the state's age is unchanged; the row
        # is still written so that the version moves.
        flag_modified(adoption, "state")
    else:
        adoption.state_changed_at = now
    if trigger in ("start_procurement", "record_award"):
        _record_procurement(adoption, plan.data, now)
    if trigger in ("approve_for_use", "decline"):
        adoption.decided_at = moment_of(plan.data.get("decision_date"), now)
    if trigger == "decline":
        adoption.decline_reason = plan.data["decline_reason"]
    if trigger == "start_use" and adoption.first_use_at is None:
        adoption.first_use_at = moment_of(plan.data.get("first_use_date"), now)


def _apply_reimbursement(case: Reimbursement, plan: _Plan, now: datetime) -> None:
    """Move the region's case; a decision stops its clock and records the tariff (when one
    was assigned)."""
    case.state = plan.dest
    case.state_changed_at = now
    if facts(plan.dest, REIMBURSEMENT).tariff_decided:
        case.decided_at = now
    for field in TARIFF_COLUMNS:
        if field in plan.data:
            setattr(case, field, plan.data[field])


# Tariff data fields, stored in the reimbursement's columns of the same names.
TARIFF_COLUMNS = ("tariff_kind", "tariff_code", "tariff_amount", "effective_date")


def _record_procurement(adoption: Adoption, data: dict[str, Any], now: datetime) -> None:
    """Open the adoption's procurement (start_procurement) or record its award (record_award);
    a field left empty keeps what was recorded before."""
    procurement = adoption.procurement
    if procurement is None:
        # Procurement starts with its call when one is dated (recorded late), else now.
        started_at = moment_of(data.get("call_date"), now)
        procurement = Procurement(adoption=adoption, started_at=started_at, supplier="")
        db.session.add(procurement)
    if "procurement_route" in data:
        procurement.route = data["procurement_route"]
    if _records_award(data):
        procurement.award_date = data.get("award_date") or rome_date(now)
    for field, column in PROCUREMENT_COLUMNS.items():
        if field in data:
            setattr(procurement, column, data[field])


def _records_award(data: dict[str, Any]) -> bool:
    """The data records an award (record_award: its price is required)."""
    return "awarded_price" in data


# Transition data fields and the procurement columns they fill.
PROCUREMENT_COLUMNS = {
    "tender_cig": "cig",
    "call_date": "call_date",
    "awarded_price": "awarded_price",
    "supplier": "supplier",
}


def moment_of(day, now: datetime) -> datetime:
    """When a step recorded with the day it happened took place: `now` when that day is today
    (or not given), else midday of that day in Rome (the reports count days)."""
    if day is None or day == rome_date(now):
        return now
    return datetime.combine(day, time(12), tzinfo=ROME).astimezone(UTC)


def receipt_number(request_id: int, submitted_at: datetime) -> str:
    """Human receipt number: year of submission (Rome) and the request id, e.g. HTA-2026-000123.

    Derived from the primary key, so it is unique without a counter to lock."""
    return f"{RECEIPT_PREFIX}-{rome_date(submitted_at).year}-{request_id:06d}"


def _on_submit(request, plan: _Plan, now: datetime) -> dict:
    if request.receipt_number is None:
        request.submitted_at = now
        request.receipt_number = receipt_number(request.id, now)
    return {"receipt_number": request.receipt_number}


def _on_assign_body(request, plan: _Plan, now: datetime) -> dict:
    request.assigned_body_id = plan.data["regional_body"]
    return {}


def _on_decline_assignment(request, plan: _Plan, now: datetime) -> dict:
    declined = request.assigned_body_id
    request.assigned_body_id = None
    return {"declined_body": declined}


def _on_suspend(request, plan: _Plan, now: datetime) -> dict:
    request.suspended_from = plan.origin
    return {}


def _on_resume(request, plan: _Plan, now: datetime) -> dict:
    request.suspended_from = None
    return {}


def _upsert_recommendation(request, plan: _Plan, now: datetime) -> Recommendation:
    recommendation = db.session.scalars(
        select(Recommendation).where(Recommendation.request_id == request.id)
    ).one_or_none()
    if recommendation is None:
        recommendation = Recommendation(request_id=request.id, created_at=now)
        db.session.add(recommendation)
    data = plan.data
    recommendation.outcome = data["outcome"]
    recommendation.rationale = data.get("rationale", "")
    recommendation.conditions = data.get("conditions", "")
    recommendation.evidence_requirements = data.get("evidence_requirements", "")
    recommendation.review_date = data.get("review_date")
    recommendation.designation_criteria = data.get("designation_criteria", "")
    _name_designated_centres(request, data.get("designated_centres") or [], now)
    db.session.flush()
    db.session.expire(request, ["recommendation"])
    return recommendation


def _name_designated_centres(request, irccs_ids: list[int], now: datetime) -> None:
    """The recommendation's designated centres become exactly `irccs_ids` (rewritten with the
    draft put to consultation, then with the published recommendation)."""
    rows = db.session.scalars(
        select(DesignatedCentre).where(DesignatedCentre.request_id == request.id)
    ).all()
    wanted = set(irccs_ids)
    for row in rows:
        if row.irccs_id not in wanted:
            db.session.delete(row)
    named = {row.irccs_id for row in rows}
    for irccs_id in irccs_ids:
        if irccs_id not in named:
            db.session.add(
                DesignatedCentre(request_id=request.id, irccs_id=irccs_id, created_at=now)
            )


def _on_open_consultation(request, plan: _Plan, now: datetime) -> dict:
    _upsert_recommendation(request, plan, now)
    return {}


def _on_publish(request, plan: _Plan, now: datetime) -> dict:
    recommendation = _upsert_recommendation(request, plan, now)
    recommendation.published_at = now
    if recommendation.outcome not in POSITIVE_OUTCOMES:
        return {}
    return {"adoption_records_created": _create_adoptions(request, now)}


def _create_adoptions(request, now: datetime) -> int:
    """One adoption record (not started) per designated centre, or, when the recommendation
    names none, per active IRCCS, that has none for this request."""
    existing = set(
        db.session.scalars(select(Adoption.irccs_id).where(Adoption.request_id == request.id))
    )
    designated = select(DesignatedCentre.irccs_id).where(DesignatedCentre.request_id == request.id)
    chosen = Organisation.id.in_(designated) | ~designated.exists()
    irccs_ids = db.session.scalars(
        select(Organisation.id)
        .where(Organisation.kind == "irccs", Organisation.active.is_(True), chosen)
        .order_by(Organisation.id)
    )
    created = 0
    for irccs_id in irccs_ids:
        if irccs_id in existing:
            continue
        db.session.add(
            Adoption(
                request_id=request.id,
                irccs_id=irccs_id,
                state="not_started",
                created_at=now,
                state_changed_at=now,
            )
        )
        created += 1
    return created


REQUEST_EFFECTS: dict[str, Callable[[Any, _Plan, datetime], dict]] = {
    "submit": _on_submit,
    "assign_body": _on_assign_body,
    "decline_assignment": _on_decline_assignment,
    "suspend": _on_suspend,
    "resume": _on_resume,
    "open_consultation": _on_open_consultation,
    "publish": _on_publish,
}


# --- Stage records ----------------------------------------------------------------------------


@dataclass
class _StageMove:
    """Leaving the open stage(s) and entering the destination's."""

    open_stages: list[StageRecord]
    new_stage: StageRecord

    def apply(self, now: datetime) -> None:
        for stage in self.open_stages:
            stage.left_at = now
        db.session.add(self.new_stage)


def _plan_stage_move(request, plan: _Plan, now: datetime) -> _StageMove:
    """The open stage to close and the new one, with its due date (queries only)."""
    open_stages = db.session.scalars(
        select(StageRecord).where(
            StageRecord.request_id == request.id, StageRecord.left_at.is_(None)
        )
    ).all()
    previous = _last_visit(request.id, plan.dest) if plan.spec.continues_clock else None
    new_stage = StageRecord(
        request_id=request.id,
        state=plan.dest,
        entered_at=now,
        due_at=_due_for(plan, now, previous),
        clock_stopped=_clock_stopped_for(plan, previous),
    )
    return _StageMove(list(open_stages), new_stage)


def _clock_stopped_for(plan: _Plan, previous: StageRecord | None) -> bool:
    """Whose time the new visit is: after a hand-back, the agency side's; back from a pause
    (a suspension), whoever's it was when the stage was left; otherwise the state's."""
    if plan.spec.hands_back_clock:
        return False
    if previous is not None and previous.clock_stopped is not None:
        return bool(previous.clock_stopped)
    return plan.dest in CLOCK_STOP_STATES


def _due_for(plan: _Plan, now: datetime, previous: StageRecord | None) -> datetime | None:
    dest = plan.dest
    if dest in TERMINAL_REQUEST_STATES:
        return None
    if previous is not None:
        return continued_due_at(previous.due_at, previous.left_at, now)
    review_date = plan.data.get("review_date")
    if dest == "adoption_monitoring" and review_date is not None:
        return end_of_day(review_date)
    return due_at(_rule_for(dest), now)


def _rule_for(state: str) -> DeadlineRule | None:
    return effective_deadlines(db.session).get(state)


def _last_visit(request_id: int, state: str) -> StageRecord | None:
    return db.session.scalars(
        select(StageRecord)
        .where(
            StageRecord.request_id == request_id,
            StageRecord.state == state,
            StageRecord.left_at.is_not(None),
        )
        .order_by(StageRecord.left_at.desc(), StageRecord.id.desc())
        .limit(1)
    ).first()


# --- The timeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One visit of the request to a state, as the request page and the reports show it.

    Terminal states have no duration: their gross and net days are None.
    """

    state: str
    entered_at: datetime
    left_at: datetime | None
    due_at: datetime | None
    gross_days: float | None
    net_days: float | None
    clock_stopped: bool
    late: bool
    near_due: bool = False
    days_late: float = 0.0

    @property
    def is_open(self) -> bool:
        return self.left_at is None


def stage_rows(stages, now: datetime) -> list[StageRow]:
    """StageRecords (in order) to timeline rows."""
    rows = []
    for stage in stages:
        if stage.state in TERMINAL_REQUEST_STATES:
            rows.append(
                StageRow(
                    stage.state, stage.entered_at, stage.left_at, None, None, None, False, False
                )
            )
            continue
        timing = stage_timing(
            stage.state, stage.entered_at, stage.left_at, stage.due_at, now, stage.clock_stopped
        )
        rows.append(
            StageRow(
                state=stage.state,
                entered_at=stage.entered_at,
                left_at=stage.left_at,
                due_at=stage.due_at,
                gross_days=timing.gross_days,
                net_days=timing.net_days,
                clock_stopped=on_manufacturer_clock(stage.state, stage.clock_stopped),
                late=timing.late,
                near_due=timing.near_due,
                days_late=timing.days_late,
            )
        )
    return rows


def stage_timeline(request, now: datetime) -> list[StageRow]:
    """Every stage visit of `request`, oldest first (one query)."""
    stages = db.session.scalars(
        select(StageRecord)
        .where(StageRecord.request_id == request.id)
        .order_by(StageRecord.entered_at, StageRecord.id)
    )
    return stage_rows(stages, now)


def open_stage(request) -> StageRecord | None:
    """The stage the request is in now (None for a draft)."""
    return db.session.scalars(
        select(StageRecord)
        .where(StageRecord.request_id == request.id, StageRecord.left_at.is_(None))
        .order_by(StageRecord.entered_at.desc(), StageRecord.id.desc())
        .limit(1)
    ).first()
