"""Documents of a request: their types, who may upload which, who may read them.

Pure predicates over plain attributes, built on `app.domain.permissions`: the parties to a
request are whoever `can_view_request` and `can_see_confidential` both admit (the manufacturer,
the agency once submitted, an assessor of the assigned body), so any rule added there (e.g. a
conflict-of-interest declaration for assessors) applies to documents too.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.domain import permissions
from app.workflow.facts import REQUEST, states_where

DOCUMENT_TYPES: tuple[str, ...] = (
    "instructions_for_use",
    "ce_certificate",
    "declaration_of_conformity",
    "clinical_evaluation_summary",
    "study",
    "price_list",
    "assessment_report",
    "other",
)

# Required before a submission (app config MANDATORY_DOCUMENT_TYPES overrides this).
DEFAULT_MANDATORY_TYPES: tuple[str, ...] = ("instructions_for_use", "ce_certificate")

ASSESSMENT_REPORT = "assessment_report"

# The manufacturer uploads while it holds the file: the draft, completing it after intake,
# answering questions, checking the draft report.
MANUFACTURER_UPLOAD_STATES = frozenset(states_where(workflow=REQUEST, queue="manufacturer"))
MANUFACTURER_TYPES: tuple[str, ...] = tuple(t for t in DOCUMENT_TYPES if t != ASSESSMENT_REPORT)

# The assessor of the assigned body writes the assessment report while assessing.
ASSESSOR_UPLOAD_STATES = frozenset(states_where(workflow=REQUEST, assessment_editable=True))
ASSESSOR_TYPES: tuple[str, ...] = (ASSESSMENT_REPORT,)

MAX_TITLE_LENGTH = 200


def is_party(actor, request) -> bool:
    """The manufacturer, the agency (once submitted), an assessor of the assigned body."""
    return permissions.can_view_request(actor, request) and permissions.can_see_confidential(
        actor, request
    )


def uploadable_types(actor, request) -> tuple[str, ...]:
    """The document types `actor` may upload to `request` now (empty: none)."""
    if not is_party(actor, request):
        return ()
    if actor.role == "agency":
        return DOCUMENT_TYPES
    if permissions.is_manufacturer_of(actor, request):
        return MANUFACTURER_TYPES if request.state in MANUFACTURER_UPLOAD_STATES else ()
    if permissions.is_assessor_of(actor, request):
        return ASSESSOR_TYPES if request.state in ASSESSOR_UPLOAD_STATES else ()
    return ()


def can_upload_document(actor, request, doc_type: str | None = None) -> bool:
    types = uploadable_types(actor, request)
    return bool(types) if doc_type is None else doc_type in types


def can_download_document(actor, request) -> bool:
    """Every document of a request, confidential or not, is for the parties only."""
    return is_party(actor, request)


def can_mark_public(actor, request) -> bool:
    """Only the agency decides what goes on the public register."""
    return actor.role == "agency" and is_party(actor, request)


def missing_document_types(present: Iterable[str], mandatory: Iterable[str]) -> list[str]:
    """The mandatory types not among `present`, in the mandatory order."""
    have = set(present)
    return [doc_type for doc_type in mandatory if doc_type not in have]


def normalise_title(title: str | None) -> str:
    """Titles compare after trimming and collapsing inner whitespace."""
    return " ".join((title or "").split())
