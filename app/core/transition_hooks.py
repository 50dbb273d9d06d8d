"""Extension points of `fire`: stage content (documents, questions, scores, the assessment)
attaches behaviour to transitions here instead of growing `fire` itself.

    @before("request", "submit")
    def mandatory_documents_present(obj, spec, actor, now, data): ...   # raise GuardFailed

    @after("request", "request_information")
    def open_question_round(obj, spec, actor, now, data, entry): ...    # write rows, flush

    @audit_data("request", "prioritise")
    def decision_basis(obj, spec, actor, now, data) -> dict: ...       # more audit data

Preconditions are not hooks: they are guards named in the workflow table and registered in
`app.core.guards`, so that the available-actions list reports them too.
`before` hooks run after the permission, state, data and guard checks and before the state
moves; they raise a DomainError to refuse. `audit_data` hooks run after the state moved and
return data added to the transition's audit entry (e.g. what a decision was based on).
`after` hooks run after the state moved and the audit
entry was written (`entry`), inside the same transaction: if one raises, everything is
rolled back with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

BeforeHook = Callable[..., None]
AfterHook = Callable[..., None]
AuditDataHook = Callable[..., dict]

_before: dict[tuple[str, str], list[BeforeHook]] = defaultdict(list)
_after: dict[tuple[str, str], list[AfterHook]] = defaultdict(list)
_audit_data: dict[tuple[str, str], list[AuditDataHook]] = defaultdict(list)


def before(workflow: str, *triggers: str):
    def register(hook: BeforeHook) -> BeforeHook:
        for trigger in triggers:
            if hook not in _before[(workflow, trigger)]:
                _before[(workflow, trigger)].append(hook)
        return hook

    return register


def after(workflow: str, *triggers: str):
    def register(hook: AfterHook) -> AfterHook:
        for trigger in triggers:
            if hook not in _after[(workflow, trigger)]:
                _after[(workflow, trigger)].append(hook)
        return hook

    return register


def audit_data(workflow: str, *triggers: str):
    def register(hook: AuditDataHook) -> AuditDataHook:
        for trigger in triggers:
            if hook not in _audit_data[(workflow, trigger)]:
                _audit_data[(workflow, trigger)].append(hook)
        return hook

    return register


def run_audit_data(workflow: str, obj, spec, actor, now, data) -> dict:
    """The extra audit data every `audit_data` hook of the transition returns, merged."""
    extra: dict = {}
    for hook in _audit_data.get((workflow, spec.trigger), ()):
        extra |= hook(obj, spec, actor, now, data)
    return extra


def run_before(workflow: str, obj, spec, actor, now, data) -> None:
    for hook in _before.get((workflow, spec.trigger), ()):
        hook(obj, spec, actor, now, data)


def run_after(workflow: str, obj, spec, actor, now, data, entry) -> None:
    for hook in _after.get((workflow, spec.trigger), ()):
        hook(obj, spec, actor, now, data, entry)


def load_hook_modules() -> None:
    """Import the modules that register hooks and guards (called once by the app factory)."""
    import importlib

    for module in HOOK_MODULES:
        importlib.import_module(module)


# Modules that register hooks or guards (`app.core.guards`); each area adds its own line.
HOOK_MODULES: list[str] = [
    "app.documents.hooks",
    "app.assessment.coi",
    "app.assessment.core_model",
    "app.assessment.prioritisation",
    "app.core.request_timings",
    "app.notifications.hooks",
    "app.adoption.designation",
    "app.adoption.barriers",
    "app.reimbursement.service",
]
