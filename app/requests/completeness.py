"""The completeness checklist, shaped for the pages: one message about what is missing.

The manufacturer's request page and dossier form show one card: the dossier fields needed to
submit, the mandatory documents and, while the file is incomplete, the agency's missing items
still to answer. "Nothing is missing" is said only when all three are empty. The agency's
intake form ticks the same checklist (`intake_checklist`): the items it ticks become the
questions of the information request (`mark_incomplete`).

Built from `app.domain.dossier_rules.completeness_checklist` (a few queries per page).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.documents import information as information_service
from app.documents import operations as documents_service
from app.documents.labels import doc_type_label
from app.domain import information_rules
from app.domain.dossier_rules import DOCUMENTS_SECTION, completeness_checklist
from app.forms.dossier import FIELD_LABELS, SECTION_LABELS
from app.models import DeviceRequest

# The agency's intake checklist lives in the form of this action; its ticked lines are posted
# as CHECKLIST_FIELD and join the action's missing items (`with_checklist`).
INTAKE_CHECKLIST_TRIGGER = "mark_incomplete"
CHECKLIST_FIELD = f"{INTAKE_CHECKLIST_TRIGGER}-checklist"
MISSING_ITEMS_FIELD = f"{INTAKE_CHECKLIST_TRIGGER}-missing_items"


@dataclass(frozen=True)
class ChecklistLine:
    kind: str  # "field" or "document"
    code: str
    label: str
    section: str
    section_label: str
    present: bool
    url: str | None = None  # where to complete it (the form's field, the upload page)


@dataclass
class Completeness:
    lines: list[ChecklistLine]
    # The agency's missing items (an open intake round) not answered yet, and its page.
    open_items: list[str] = field(default_factory=list)
    round_url: str | None = None

    @property
    def missing(self) -> list[ChecklistLine]:
        return [line for line in self.lines if not line.present]

    @property
    def missing_by_section(self) -> dict[str, list[ChecklistLine]]:
        grouped: dict[str, list[ChecklistLine]] = {}
        for line in self.missing:
            grouped.setdefault(line.section, []).append(line)
        return grouped

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.open_items)

    @property
    def complete(self) -> bool:
        return self.count == 0


def section_label(section: str) -> str:
    if section == DOCUMENTS_SECTION:
        return _("Mandatory documents")
    return str(SECTION_LABELS.get(section, section))


def _lines(req: DeviceRequest, *, links: bool, in_form: bool) -> list[ChecklistLine]:
    items = completeness_checklist(
        req, documents_service.present_types(req.id), documents_service.mandatory_types()
    )
    lines = []
    for item in items:
        if item.kind == "document":
            label = doc_type_label(item.code)
            url = url_for("documents.upload", request_id=req.id, doc_type=item.code)
        else:
            label = str(FIELD_LABELS.get(item.code, item.code))
            url = (
                f"#{item.code}"
                if in_form
                else url_for("requests.edit", request_id=req.id, _anchor=item.code)
            )
        lines.append(
            ChecklistLine(
                item.kind,
                item.code,
                label,
                item.section,
                section_label(item.section),
                item.present,
                url if links else None,
            )
        )
    return lines


def completeness_for(req: DeviceRequest, *, links: bool, in_form: bool = False) -> Completeness:
    """The manufacturer's checklist; `links` when the reader may complete the items."""
    completeness = Completeness(_lines(req, links=links, in_form=in_form))
    if (
        req.id is not None
        and req.state == information_rules.WAITING_STATE[information_rules.INTAKE]
    ):
        open_round = information_service.open_round(req.id, information_rules.INTAKE)
        if open_round is not None:
            completeness.open_items = [
                q.text for q in open_round.questions if not (q.answer and q.answer.text.strip())
            ]
            completeness.round_url = url_for(
                "documents.information_round", request_id=req.id, number=open_round.number
            )
    return completeness


def intake_checklist(req: DeviceRequest) -> list[ChecklistLine]:
    """The agency's intake checklist (every line, present or not)."""
    return _lines(req, links=False, in_form=False)


def with_checklist(formdata: MultiDict) -> MultiDict:
    """The posted "mark incomplete" form with the ticked checklist lines first in its missing
    items (each once, whatever was also typed): they become the questions of the round."""
    ticked = [line.strip() for line in formdata.getlist(CHECKLIST_FIELD) if line.strip()]
    typed = [
        line.strip()
        for line in (formdata.get(MISSING_ITEMS_FIELD) or "").splitlines()
        if line.strip()
    ]
    merged = ticked + [line for line in typed if line not in ticked]
    data = MultiDict(formdata)
    data.setlist(MISSING_ITEMS_FIELD, ["\n".join(merged)])
    return data
