"""Prioritisation: the agency's scores, the administrator's weights, the ranking and the
decisions (prioritise, defer, not prioritised, route elsewhere) fired through the workflow.

Every score edit and every weight change is audit-logged with old and new values. Never
commits: the view owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.audit import record_audit
from app.core.fire import fire
from app.core.guards import GuardFailure, state_guard
from app.core.request_edits import audit_request_edit
from app.core.transition_hooks import audit_data
from app.domain import permissions
from app.domain.errors import PermissionDenied, ValidationFailed
from app.domain.prioritisation import (
    CRITERIA,
    DECISION_TRIGGERS,
    RANKED_STATES,
    WEIGHTED_CRITERIA,
    combined_index,
    effective_weights,
    is_valid_score,
    is_valid_weight,
    rank,
)
from app.extensions import db
from app.models import AuditEntry, DeviceRequest, PriorityScore, PriorityWeight
from app.needs.operations import derived_scores
from app.requests.queries import visible_requests

SCORES_EDITED = "priority_scores_edited"
WEIGHTS_EDITED = "priority_weights_edited"
WEIGHTS_ENTITY = "priority_weights"
START_TRIGGER = "start_prioritisation"


# --- Weights ---------------------------------------------------------------------------------


def current_weights() -> dict[str, Decimal]:
    """Every criterion's weight (stored, else the default): one query."""
    rows = db.session.execute(select(PriorityWeight.criterion, PriorityWeight.weight))
    return effective_weights(dict(rows.all()))


def save_weights(actor, weights: Mapping[str, Decimal], now: datetime, ip: str | None = None):
    """Store the weights (admin only); returns the changes {criterion: [old, new]}."""
    if not permissions.can_set_priority_weights(actor):
        raise PermissionDenied("only an administrator sets the criteria weights")
    new = {c: Decimal(str(weights[c])) for c in WEIGHTED_CRITERIA if c in weights}
    errors = {c: "invalid_weight" for c, w in new.items() if not is_valid_weight(w)}
    if errors:
        raise ValidationFailed("invalid weights", fields=errors)
    if all(w == 0 for w in effective_weights(new).values()):
        raise ValidationFailed("every weight is 0", fields={"weights": "all_zero"})
    old = current_weights()
    stored = {row.criterion: row for row in db.session.scalars(select(PriorityWeight))}
    changes = {}
    for criterion, weight in new.items():
        if old[criterion] == weight:
            continue
        changes[criterion] = [str(old[criterion]), str(weight)]
        row = stored.get(criterion) or PriorityWeight(criterion=criterion)
        row.weight, row.updated_by_id, row.updated_at = weight, actor.id, now
        db.session.add(row)
    if changes:
        record_audit(
            actor,
            entity_type=WEIGHTS_ENTITY,
            entity_id=0,  # one set of weights; the criteria are in `changes`
            action=WEIGHTS_EDITED,
            now=now,
            changes=changes,
            ip=ip,
        )
    db.session.flush()
    return changes


# --- Scores ----------------------------------------------------------------------------------


def scores_of(request_id: int) -> dict[str, PriorityScore]:
    rows = db.session.scalars(
        select(PriorityScore)
        .where(PriorityScore.request_id == request_id)
        .options(joinedload(PriorityScore.scored_by))
    )
    return {row.criterion: row for row in rows}


def index_of(
    request_id: int, scores: Mapping[str, PriorityScore], weights: Mapping[str, Decimal]
) -> float | None:
    return request_index(request_id, {c: s.score for c, s in scores.items()}, weights)


def _check_entries(entries: Mapping[str, tuple[int | None, str]]) -> None:
    errors = {}
    for criterion, (score, justification) in entries.items():
        if criterion not in CRITERIA:
            errors[criterion] = "unknown_criterion"
        elif score is None and justification:
            errors[criterion] = "score_required"
        elif score is not None and not is_valid_score(score):
            errors[criterion] = "invalid_score"
        elif score is not None and not justification:
            errors[criterion] = "justification_required"
    if errors:
        raise ValidationFailed("invalid scores", fields=errors)


def save_scores(
    actor,
    request: DeviceRequest,
    entries: Mapping[str, tuple[int | None, str]],
    now: datetime,
    ip: str | None = None,
) -> dict:
    """Apply {criterion: (score or None, justification)}: a None score with no justification
    clears the criterion. Returns the audit changes ({"<criterion>.score": [old, new], ...})."""
    if not permissions.can_score_priority(actor, request):
        raise PermissionDenied("the request cannot be scored now")
    entries = {c: (s, (j or "").strip()) for c, (s, j) in entries.items()}
    _check_entries(entries)
    existing = scores_of(request.id)
    changes: dict[str, list] = {}
    for criterion, (score, justification) in entries.items():
        row = existing.get(criterion)
        old = (row.score, row.justification) if row else (None, "")
        if old == (score, justification):
            continue
        if old[0] != score:
            changes[f"{criterion}.score"] = [old[0], score]
        if old[1] != justification:
            changes[f"{criterion}.justification"] = [old[1], justification]
        _write_score(row, request, criterion, score, justification, actor, now)
    return audit_request_edit(actor, request, SCORES_EDITED, changes, now=now, ip=ip)


def _write_score(row, request, criterion, score, justification, actor, now) -> None:
    if score is None:
        if row is not None:
            db.session.delete(row)
        return
    if row is None:
        row = PriorityScore(request_id=request.id, criterion=criterion)
        db.session.add(row)
    row.score, row.justification = score, justification
    row.scored_by_id, row.scored_at = actor.id, now


# --- The ranking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingRow:
    request: DeviceRequest
    index: float | None
    position: int | None
    scored: int

    @property
    def complete(self) -> bool:
        return self.scored == len(CRITERIA)


def ranking(actor) -> tuple[list[RankingRow], dict[str, Decimal]]:
    """The requests awaiting or in prioritisation, best index first, unscored last (ties: first
    submitted first). Three statements whatever the number of requests."""
    if actor.role != "agency":
        raise PermissionDenied("only the agency ranks requests")
    requests = list(
        db.session.scalars(
            visible_requests(actor)
            .where(DeviceRequest.state.in_(RANKED_STATES))
            .options(joinedload(DeviceRequest.manufacturer))
        )
    )
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(PriorityScore.request_id, PriorityScore.criterion, PriorityScore.score)
        .join(DeviceRequest, DeviceRequest.id == PriorityScore.request_id)
        .where(DeviceRequest.state.in_(RANKED_STATES))
    )
    for request_id, criterion, score in rows:
        scores[request_id][criterion] = score
    derived = derived_scores(r.id for r in requests)
    weights = current_weights()
    ranked = rank(
        ((r, combined_index(scores[r.id], derived[r.id], weights)) for r in requests),
        tie_break=lambda r: (r.submitted_at is None, r.submitted_at or r.created_at, r.id),
    )
    return [
        RankingRow(item.item, item.index, item.position, len(scores[item.item.id]))
        for item in ranked
    ], weights


def request_index(request_id: int, scored: Mapping[str, int], weights) -> float | None:
    """The index of one request: its hand-made scores and the derived ones."""
    return combined_index(scored, derived_scores([request_id])[request_id], weights)


# --- What a decision needs and records ---------------------------------------------------------


def _scored(request_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(PriorityScore.criterion, PriorityScore.score).where(
            PriorityScore.request_id == request_id
        )
    )
    return dict(rows.all())


@state_guard("priority_scores_complete")
def every_criterion_scored(request, actor) -> GuardFailure | None:
    """A decision on the merits (prioritise or not) needs all 12 criteria scored."""
    scored = _scored(request.id)
    missing = [c for c in CRITERIA if c not in scored]
    if not missing:
        return None
    from app.forms.assessment import CRITERION_LABELS

    return GuardFailure(
        "priority_scores_complete",
        "criteria_not_scored",
        _l(
            "Score every prioritisation criterion first (%(scored)d of %(total)d scored):",
            scored=len(CRITERIA) - len(missing),
            total=len(CRITERIA),
        ),
        missing=tuple(str(CRITERION_LABELS.get(c, c)) for c in missing),
        details={"criteria": missing},
    )


@audit_data("request", *DECISION_TRIGGERS)
def decision_basis(request, spec, actor, now, data) -> dict:
    """What the decision was based on, in its audit entry: the priority index, the weights it
    was computed with, and how many criteria were scored."""
    weights = current_weights()
    scored = _scored(request.id)
    index = request_index(request.id, scored, weights)
    return {
        "priority_index": None if index is None else str(index),
        "derived_scores": derived_scores([request.id])[request.id],
        "priority_weights": {c: str(w) for c, w in weights.items()},
        "criteria_scored": len(scored),
    }


# --- Decisions -------------------------------------------------------------------------------


def decide(
    actor,
    request: DeviceRequest,
    decision: str,
    now: datetime,
    *,
    reason: str = "",
    route_to: str | None = None,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Fire a prioritisation decision (or start the round). Every decision needs its reasons:
    without them it is refused here, before the workflow is asked."""
    if decision not in (*DECISION_TRIGGERS, START_TRIGGER):
        raise ValidationFailed("unknown decision", fields={"decision": "invalid_choice"})
    reason = (reason or "").strip()
    if decision in DECISION_TRIGGERS and not reason:
        raise ValidationFailed("a decision needs its reasons", fields={"reason": "required"})
    data = {"route_to": route_to} if decision == "route" else {}
    return fire(
        request,
        decision,
        actor,
        now,
        reason=reason,
        expected_version=expected_version,
        ip=ip,
        **data,
    )
