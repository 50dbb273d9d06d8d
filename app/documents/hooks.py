"""Transition hooks of the dossier documents and the information requests (clock stops).

Registered with `app.core.transition_hooks` (this module is listed in HOOK_MODULES):

- before submit / resubmit: the mandatory document types are uploaded (GuardFailed listing the
  missing ones, labelled);
- before answer_information / resubmit: every question of the open round has an answer;
- after mark_incomplete / request_information: open a round with the missing items / the
  questions of the transition;
- after answer_information / resubmit: close the round, the answers count as sent;
- after lapse_incomplete / lapse_information / withdraw: close the round unanswered.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.core.transition_hooks import after, before
from app.documents import information
from app.documents.labels import doc_type_label
from app.documents.operations import missing_mandatory_types
from app.domain import information_rules as rules
from app.domain.errors import GuardFailed


@before("request", "submit", "resubmit")
def mandatory_documents_present(obj, spec, actor, now, data) -> None:
    missing = missing_mandatory_types(obj)
    if missing:
        raise GuardFailed(
            "mandatory documents are missing",
            missing=[
                _("Document to upload: %(type)s", type=doc_type_label(doc_type))
                for doc_type in missing
            ],
            missing_documents=missing,
        )


@before("request", "answer_information", "resubmit")
def every_question_answered(obj, spec, actor, now, data) -> None:
    kind = rules.INTAKE if spec.trigger == "resubmit" else rules.ASSESSMENT
    information_round = information.open_round(obj.id, kind)
    if information_round is not None:
        information.refuse_unanswered(information_round)


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
