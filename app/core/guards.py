"""Guards: the named preconditions of the workflow's transitions, in one registry.

The workflow table declares, per transition, the names of the guards it needs
(`TransitionSpec.guards`); this module maps each name to its check. `fire` runs every guard of
the transition it is about to take (`check`), and the available-actions list reports the same
state guards as the reasons an action is blocked (`state_failures`), so an action is never
offered that `fire` would then refuse on a guard.

Two kinds of guards:
- a *state guard* depends on the object (and the actor): the dossier is complete, the
  mandatory documents are uploaded, the assessor is cleared of conflicts of interest...;
  `check(obj, actor) -> GuardFailure | None`. The available-actions list evaluates them.
  A state guard about time (the consultation has lasted its minimum) is registered with
  `needs_now=True` and is called `check(obj, actor, now)`: `fire` passes the moment of the
  transition, the lists the moment they are drawn.
- a *data guard* depends on the data the action carries: conditions are required when the
  outcome is "recommended with restrictions"...; `check(obj, actor, data) -> GuardFailure |
  None` with the transition's normalised data. Only `fire` can evaluate them.

The kernel registers the guards it can check itself (below); a feature package registers the
ones about its own content with `@state_guard(name)` / `@data_guard(name)` in a module listed
in `app.core.transition_hooks.HOOK_MODULES`. A test checks that every name the table declares
is registered; `fire` refuses (UnknownGuard) a declared name with no check.

A failure has a stable `code`, a translatable `message` (a lazy string: it follows the
reader's language), the `missing` items (readable, or `MissingItem`s for the dossier), the data
`field` it is about (data guards: the form shows the message on that field) and extra
machine-readable `details`. `fire` raises it as `GuardFailed` (HTTP 422).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from app.domain.deadlines import earliest_leaving, rome_date
from app.domain.dossier_rules import missing_for_submission
from app.domain.errors import GuardFailed
from app.i18n import display_date

STATE = "state"
DATA = "data"


@dataclass(frozen=True)
class GuardFailure:
    """Why a guard refuses a transition (see the module docstring)."""

    guard: str
    code: str
    message: Any  # a lazy translatable string; str() gives it in the current language
    missing: tuple[Any, ...] = ()
    field: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.message)

    def error(self) -> GuardFailed:
        """The GuardFailed `fire` raises for this failure."""
        return GuardFailed(
            self.text,
            guard=self.guard,
            code=self.code,
            field=self.field,
            missing=list(self.missing),
            failure=self,
            **dict(self.details),
        )


@dataclass(frozen=True)
class Guard:
    name: str
    kind: str  # STATE or DATA
    check: Callable[..., GuardFailure | None]
    needs_now: bool = False

    @property
    def module(self) -> str:
        return self.check.__module__


class UnknownGuard(LookupError):
    """The workflow table declares a guard that nobody registered (a programming error)."""


_registry: dict[str, Guard] = {}


def _register(name: str, kind: str, needs_now: bool = False):
    def register(check: Callable[..., GuardFailure | None]):
        existing = _registry.get(name)
        # Re-importing a module registers the same function again; two functions may not
        # share a name.
        if existing is not None and (existing.module, existing.check.__qualname__) != (
            check.__module__,
            check.__qualname__,
        ):
            raise ValueError(f"guard {name!r} is already registered by {existing.module}")
        _registry[name] = Guard(name, kind, check, needs_now)
        return check

    return register


def state_guard(name: str, *, needs_now: bool = False):
    """Register `check(obj, actor) -> GuardFailure | None` as the state guard `name`
    (`check(obj, actor, now)` with `needs_now`)."""
    return _register(name, STATE, needs_now)


def data_guard(name: str):
    """Register `check(obj, actor, data) -> GuardFailure | None` as the data guard `name`."""
    return _register(name, DATA)


def registered_names() -> frozenset[str]:
    return frozenset(_registry)


def guard(name: str) -> Guard:
    try:
        return _registry[name]
    except KeyError:
        message = f"the workflow declares the guard {name!r}, which is not registered"
        raise UnknownGuard(message) from None


def _state_check(declared: Guard, obj, actor, now):
    if declared.needs_now:
        return declared.check(obj, actor, now)
    return declared.check(obj, actor)


def state_failures(spec, obj, actor, now: datetime) -> list[GuardFailure]:
    """Every state guard of `spec` that refuses `obj` for `actor` at `now`, in declaration
    order."""
    failures = []
    for name in spec.guards:
        declared = guard(name)
        if declared.kind != STATE:
            continue
        failure = _state_check(declared, obj, actor, now)
        if failure is not None:
            failures.append(failure)
    return failures


def failures(spec, obj, actor, data: Mapping[str, Any], now: datetime) -> list[GuardFailure]:
    """Every guard of `spec` (state and data) that refuses, in declaration order."""
    found = []
    for name in spec.guards:
        declared = guard(name)
        if declared.kind == STATE:
            failure = _state_check(declared, obj, actor, now)
        else:
            failure = declared.check(obj, actor, data)
        if failure is not None:
            found.append(failure)
    return found


def check(spec, obj, actor, data: Mapping[str, Any], now: datetime) -> None:
    """Raise the first failure of `spec`'s guards as GuardFailed (what `fire` does)."""
    found = failures(spec, obj, actor, data, now)
    if found:
        raise found[0].error()


def declared_names(workflows: Sequence) -> frozenset[str]:
    """Every guard name the given WorkflowSpecs declare."""
    return frozenset(name for w in workflows for spec in w.transitions for name in spec.guards)


# --- The kernel's guards ------------------------------------------------------------------------


@state_guard("dossier_complete")
def dossier_complete(request, actor) -> GuardFailure | None:
    missing = missing_for_submission(request)
    if not missing:
        return None
    return GuardFailure(
        "dossier_complete",
        "dossier_incomplete",
        _l("The dossier is not complete yet. Please fill in:"),
        missing=tuple(missing),
    )


@state_guard("body_assigned")
def body_assigned(request, actor) -> GuardFailure | None:
    if request.assigned_body_id is not None:
        return None
    return GuardFailure(
        "body_assigned",
        "no_body_assigned",
        _l("No regional HTA body is assigned to this request yet."),
    )


@state_guard("recommendation_in_force")
def recommendation_in_force(adoption, actor) -> GuardFailure | None:
    if adoption.request.state != "suspended":
        return None
    return GuardFailure(
        "recommendation_in_force",
        "device_suspended",
        _l("The agency has suspended this device: adoption cannot move towards use for now."),
    )


def _blank(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    return value is None or not str(value).strip()


@data_guard("restriction_conditions")
def restriction_conditions(request, actor, data) -> GuardFailure | None:
    """A recommendation with restrictions says which indications or centres."""
    if data.get("outcome") != "recommended_restricted" or not _blank(data, "conditions"):
        return None
    return GuardFailure(
        "restriction_conditions",
        "conditions_required",
        _l("Say which indications or centres the recommendation is restricted to."),
        field="conditions",
    )


@data_guard("adoption_dates_plausible")
def adoption_dates_plausible(adoption, actor, data) -> GuardFailure | None:
    """A backdated adoption step: the decision not before the recommendation was published,
    the first patient and the procurement's call and award not before the decision. (Not in
    the future: the field's `past_only`.)"""
    for name in ("decision_date", "first_use_date", "call_date", "award_date"):
        day = data.get(name)
        if day is None:
            continue
        published = adoption.request.recommendation and adoption.request.recommendation.published_at
        if published is not None and day < rome_date(published):
            return GuardFailure(
                "adoption_dates_plausible",
                "before_recommendation",
                _l("This date is before the recommendation was published (%(date)s).")
                % {"date": display_date(rome_date(published))},
                field=name,
            )
        if name != "decision_date" and adoption.decided_at is not None:
            decided = rome_date(adoption.decided_at)
            if day < decided:
                message = (
                    _l("The first patient cannot come before the decision (%(date)s).")
                    if name == "first_use_date"
                    else _l("The procurement cannot come before the decision (%(date)s).")
                )
                return GuardFailure(
                    "adoption_dates_plausible",
                    "before_decision",
                    message % {"date": display_date(decided)},
                    field=name,
                )
    return None


@data_guard("evidence_generation_plan")
def evidence_generation_plan(request, actor, data) -> GuardFailure | None:
    """A recommendation with evidence generation lists the evidence to be generated, and
    when the recommendation is reviewed in its light."""
    if data.get("outcome") != "recommended_with_evidence_generation":
        return None
    if _blank(data, "evidence_requirements"):
        return GuardFailure(
            "evidence_generation_plan",
            "evidence_requirements_required",
            _l("List the evidence to be generated, with dates."),
            field="evidence_requirements",
        )
    if data.get("review_date") is None:
        return GuardFailure(
            "evidence_generation_plan",
            "review_date_required",
            _l("Set the date when the recommendation is reviewed against the new evidence."),
            field="review_date",
        )
    return None


# Outcomes that restrict use to designated centres (DOMAIN.md "Designated centres").
DESIGNATING_OUTCOMES = frozenset({"recommended_restricted", "recommended_with_evidence_generation"})


@data_guard("designated_centres_named")
def designated_centres_named(request, actor, data) -> GuardFailure | None:
    """A recommendation with restrictions or with evidence generation names the IRCCS where
    the device may be used: only they get adoption records."""
    if data.get("outcome") not in DESIGNATING_OUTCOMES or data.get("designated_centres"):
        return None
    return GuardFailure(
        "designated_centres_named",
        "designated_centres_required",
        _l("Choose the IRCCS where the device may be used (the designated centres)."),
        field="designated_centres",
    )


@state_guard("consultation_minimum", needs_now=True)
def consultation_minimum(request, actor, now: datetime) -> GuardFailure | None:
    """The public consultation has lasted its minimum period (configurable, 30 days by
    default) before the recommendation is published."""
    from app.core.deadline_settings import effective_minimums
    from app.core.fire import open_stage

    stage = open_stage(request)
    if stage is None or stage.state != "consultation":
        return None  # no consultation visit recorded: nothing to hold the publication to
    days = effective_minimums().get("consultation", 0)
    earliest = earliest_leaving(stage.entered_at, days)
    if earliest is None or now >= earliest:
        return None
    day = rome_date(earliest).isoformat()
    return GuardFailure(
        "consultation_minimum",
        "consultation_too_short",
        _l(
            "The public consultation stays open at least %(days)d days: the recommendation "
            "can be published from %(date)s.",
            days=days,
            date=day,
        ),
        details={"earliest_publication": day, "minimum_days": days},
    )
