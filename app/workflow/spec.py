"""The vocabulary for declaring a workflow as data: transitions and the data they carry."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataField:
    """A piece of data a transition carries, e.g. the missing-items list or the chosen body.

    kind: "text" (one line), "textarea", "lines" (a list, one item per line), "choice" (one of
    `choices`), "date", "regional_body" (an organisation id of kind regional_body), "irccs" (an
    organisation id of kind irccs), "irccs_list" (a list of them), "cig" (a tender reference,
    `app.domain.procurement`), "amount" (euro, a Decimal with two decimals), "barrier" (the
    id of one of the adoption record's barriers, `app.adoption.barriers`).
    `future_only` dates must fall after the day of the transition; `past_only` dates on it or
    before (a step recorded late, backdated: never in the future).
    """

    name: str
    kind: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    future_only: bool = False
    past_only: bool = False


@dataclass(frozen=True)
class TransitionSpec:
    """One transition: who may fire it, from where to where, and what it needs.

    `condition` names a predicate in the engine (e.g. "positive_outcome") that picks between
    transitions sharing a trigger; `guards` name the preconditions `fire` checks before the
    transition is taken (e.g. "dossier_complete"), each registered in `app.core.guards` and
    described in `app.workflow.definitions`; a failing guard refuses the trigger with its
    message, and the available-actions list shows the action blocked with the same message.
    `internal` transitions record data without starting a new stage (the clock runs on).
    `continues_clock` transitions return to a stage that was paused (by a clock stop or a
    suspension): the new visit is due after the time that was left, not a fresh deadline.
    `hands_back_clock` internal transitions end the manufacturer's part of a clock-stop stage
    (it returned what was asked): the visit is split, and the rest of the stage is a new
    visit of the same state on the agency side's clock, with a fresh deadline.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    reason_required: bool = False
    fields: tuple[DataField, ...] = ()
    condition: str | None = None
    guards: tuple[str, ...] = ()
    internal: bool = False
    continues_clock: bool = False
    hands_back_clock: bool = False
    # Fired by `flask deadlines check` when the stage's due date has passed.
    lapse: bool = False

    def may_be_fired_by(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[TransitionSpec, ...] = field(default_factory=tuple)

    def by_trigger(self, trigger: str) -> tuple[TransitionSpec, ...]:
        return tuple(t for t in self.transitions if t.trigger == trigger)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))
