"""Guards and transition hooks of the dossier documents and the information requests (clock
stops).

Guards (`app.core.guards`; declared by name in the workflow table):
- "mandatory_documents" (submit, resubmit): the mandatory document types are uploaded (the
  failure lists the missing ones, labelled, and their codes as `missing_documents`);
- "questions_answered" (answer_information, resubmit): every question of the open round has an
  answer.

Hooks (registered with `app.core.transition_hooks`; this module is listed in HOOK_MODULES):
- after mark_incomplete / request_information: open a round with the missing items / the
  questions of the transition;
- after answer_information / resubmit: close the round, the answers count as sent;
- after lapse_incomplete / lapse_information / withdraw: close the round unanswered.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.core.guards import GuardFailure, state_guard
from app.core.transition_hooks import after
from app.documents import information
from app.documents.labels import doc_type_label
from app.documents.operations import missing_mandatory_types
from app.domain import information_rules as rules


@state_guard("mandatory_documents")
def mandatory_documents_present(request, actor) -> GuardFailure | None:
    missing = missing_mandatory_types(request)
    if not missing:
        return None
    return GuardFailure(
        "mandatory_documents",
        "documents_missing",
        _l("Mandatory documents are missing. Please upload:"),
        missing=tuple(
            _("Document to upload: %(type)s", type=doc_type_label(doc_type)) for doc_type in missing
        ),
        details={"missing_documents": missing},
    )


@state_guard("questions_answered")
def every_question_answered(request, actor) -> GuardFailure | None:
    """The round open now: the intake's missing items (resubmit) or the assessor's questions
    (answer_information)."""
    information_round = information.open_round(request.id)
    if information_round is None:
        return None
    return information.unanswered_failure(information_round)


@after("request", "mark_incomplete", "request_information")
def open_information_round(obj, spec, actor, now, data, entry) -> None:
    kind = rules.KIND_OF_TRIGGER[spec.trigger]
    items = data.get(rules.QUESTIONS_FIELD[kind]) or []
    information.open_round_for(obj, kind, items, actor, now, entry)


@after("request", "answer_information", "resubmit", *sorted(rules.ENDING_TRIGGERS))
def close_information_round(obj, spec, actor, now, data, entry) -> None:
    information_round = information.open_round(obj.id)
    if information_round is not None:
        information.close_round(information_round, spec.trigger, now)
