"""Extension points of `fire`: stage content (documents, questions, scores, the assessment)
attaches behaviour to transitions here instead of growing `fire` itself.

    @before("request", "submit")
    def mandatory_documents_present(obj, spec, actor, now, data): ...   # raise GuardFailed

    @after("request", "request_information")
    def open_question_round(obj, spec, actor, now, data, entry): ...    # write rows, flush

`before` hooks run after the permission, state and data checks and before the state moves;
they raise a DomainError to refuse. `after` hooks run after the state moved and the audit
entry was written (`entry`), inside the same transaction: if one raises, everything is
rolled back with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

BeforeHook = Callable[..., None]
AfterHook = Callable[..., None]

_before: dict[tuple[str, str], list[BeforeHook]] = defaultdict(list)
_after: dict[tuple[str, str], list[AfterHook]] = defaultdict(list)


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


def run_before(workflow: str, obj, spec, actor, now, data) -> None:
    for hook in _before.get((workflow, spec.trigger), ()):
        hook(obj, spec, actor, now, data)


def run_after(workflow: str, obj, spec, actor, now, data, entry) -> None:
    for hook in _after.get((workflow, spec.trigger), ()):
        hook(obj, spec, actor, now, data, entry)


def load_hook_modules() -> None:
    """Import the modules that register hooks (called once by the app factory)."""
    import importlib

    for module in HOOK_MODULES:
        importlib.import_module(module)


# Modules that register hooks; each area adds its own line.
HOOK_MODULES: list[str] = [
    "app.documents.hooks",
    "app.assessment.coi",
    "app.assessment.core_model",
    "app.core.request_timings",
    "app.notifications.hooks",
]
