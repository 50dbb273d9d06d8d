"""The per-state deadlines in force: the defaults of `app.domain.deadlines`, overridden by the
administrator's `DeadlineSetting` rows.

`effective_deadlines(session)` is what the workflow reads when a request enters a state;
`save_deadline(...)` is what the admin deadlines page writes (flush only, never commit).
`effective_minimums` / `save_minimum` do the same for the least time a stage must last (the
public consultation), kept in the same rows.
A state missing from the result, or present with `days=None`, has no deadline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.audit import record_audit
from app.domain.deadlines import DEFAULT_DEADLINES, DEFAULT_MINIMUM_DAYS, DeadlineRule
from app.extensions import db
from app.models import DeadlineSetting
from app.workflow.facts import REQUEST_TABLE, TARIFF_DEADLINE_KEY

# The states with a deadline (their deadline key in the table of state facts): every open
# state except the manufacturer's own draft and `suspended` (which lasts as long as the safety
# question does), in workflow order; then the regional tariff's one deadline (from the
# request to the region's decision, whatever the case's state).
REQUEST_DEADLINE_STATES: tuple[str, ...] = tuple(
    record.deadline_key for record in REQUEST_TABLE if record.deadline_key
)
CONFIGURABLE_STATES: tuple[str, ...] = (*REQUEST_DEADLINE_STATES, TARIFF_DEADLINE_KEY)

MAX_DEADLINE_DAYS = 3650

# The states with a minimum period (the public consultation), in workflow order.
MINIMUM_STATES: tuple[str, ...] = tuple(
    record.deadline_key for record in REQUEST_TABLE if record.deadline_key in DEFAULT_MINIMUM_DAYS
)

AUDIT_ENTITY_TYPE = "deadline_setting"


def effective_deadlines(session: Session | None = None) -> dict[str, DeadlineRule]:
    """State -> the rule in force (one query)."""
    session = session or db.session
    rules = dict(DEFAULT_DEADLINES)
    settings = session.execute(
        select(DeadlineSetting.state, DeadlineSetting.days, DeadlineSetting.working_days)
    )
    for state, days, working_days in settings:
        rules[state] = DeadlineRule(days, bool(working_days))
    return rules


def save_deadline(
    state: str,
    days: int | None,
    working_days: bool,
    *,
    actor=None,
    now: datetime | None = None,
    ip: str | None = None,
) -> bool:
    """Store the deadline of `state`; True when it changed. Audit-logged when `now` is given."""
    if state not in CONFIGURABLE_STATES:
        raise ValueError(f"{state!r} has no configurable deadline")
    if days is not None and not 0 < days <= MAX_DEADLINE_DAYS:
        raise ValueError(f"deadline days must be between 1 and {MAX_DEADLINE_DAYS}")
    working_days = bool(working_days)
    old = effective_deadlines().get(state, DeadlineRule(None))
    if old == DeadlineRule(days, working_days):
        return False
    setting = db.session.get(DeadlineSetting, state)
    if setting is None:
        setting = DeadlineSetting(state=state)
        db.session.add(setting)
    setting.days = days
    setting.working_days = working_days
    db.session.flush()
    if now is not None:
        _audit_change(actor, state, old, DeadlineRule(days, working_days), now=now, ip=ip)
    return True


def _audit_change(actor, state: str, old: DeadlineRule, new: DeadlineRule, *, now, ip) -> None:
    changes = {
        name: [getattr(old, name), getattr(new, name)]
        for name in ("days", "working_days")
        if getattr(old, name) != getattr(new, name)
    }
    record_audit(
        actor,
        entity_type=AUDIT_ENTITY_TYPE,
        entity_id=0,  # the settings table is keyed by state; the state is in `data`
        action="update",
        now=now,
        data={"state": state},
        changes=changes,
        ip=ip,
    )


def effective_minimums(session: Session | None = None) -> dict[str, int]:
    """State -> the least calendar days it must last (0: no minimum), for MINIMUM_STATES."""
    session = session or db.session
    minimums = dict(DEFAULT_MINIMUM_DAYS)
    rows = session.execute(
        select(DeadlineSetting.state, DeadlineSetting.minimum_days).where(
            DeadlineSetting.state.in_(MINIMUM_STATES), DeadlineSetting.minimum_days.is_not(None)
        )
    )
    for state, days in rows:
        minimums[state] = days
    return minimums


def save_minimum(
    state: str,
    days: int | None,
    *,
    actor=None,
    now: datetime | None = None,
    ip: str | None = None,
) -> bool:
    """Store the minimum period of `state` (None or 0: none); True when it changed.
    Audit-logged when `now` is given."""
    if state not in MINIMUM_STATES:
        raise ValueError(f"{state!r} has no minimum period")
    days = days or 0
    if not 0 <= days <= MAX_DEADLINE_DAYS:
        raise ValueError(f"minimum days must be between 0 and {MAX_DEADLINE_DAYS}")
    old = effective_minimums().get(state, 0)
    if old == days:
        return False
    setting = db.session.get(DeadlineSetting, state)
    if setting is None:
        # A new row keeps the deadline in force (the default) beside the minimum.
        rule = DEFAULT_DEADLINES.get(state, DeadlineRule(None))
        setting = DeadlineSetting(state=state, days=rule.days, working_days=rule.working_days)
        db.session.add(setting)
    setting.minimum_days = days
    db.session.flush()
    if now is not None:
        record_audit(
            actor,
            entity_type=AUDIT_ENTITY_TYPE,
            entity_id=0,
            action="update",
            now=now,
            data={"state": state},
            changes={"minimum_days": [old, days]},
            ip=ip,
        )
    return True
