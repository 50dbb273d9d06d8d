"""Human labels (translatable) for documents and information requests, and the messages of
their refusals. Lazy strings: they follow the language of whoever reads them."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from app.domain import file_types
from app.domain import information_rules as info

DOC_TYPE_LABELS = {
    "instructions_for_use": _l("Instructions for use"),
    "ce_certificate": _l("CE certificate"),
    "declaration_of_conformity": _l("Declaration of conformity"),
    "clinical_evaluation_summary": _l("Clinical evaluation summary"),
    "study": _l("Study"),
    "price_list": _l("Price list"),
    "assessment_report": _l("Assessment report"),
    "other": _l("Other document"),
}

ROUND_KIND_LABELS = {
    info.INTAKE: _l("Missing items (intake)"),
    info.ASSESSMENT: _l("Questions of the assessor"),
}

# For the audit trail (to merge into app.workflow.action_labels: ACTION_LABELS,
# AUDIT_DATA_LABELS and CHOICE_LABELS["doc_type"]).
AUDIT_ACTION_LABELS = {
    "document_uploaded": _l("Document uploaded"),
    "document_downloaded": _l("Confidential document downloaded"),
    "document_published": _l("Document published on the public register"),
    "document_unpublished": _l("Document withdrawn from the public register"),
    "question_due_dates_set": _l("Due dates of the questions"),
}
AUDIT_DATA_LABELS = {
    "doc_type": _l("Type of document"),
    "title": _l("Title"),
    "version": _l("Version"),
    "original_filename": _l("File name"),
    "content_type": _l("Kind of file"),
    "size": _l("Size in bytes"),
    "sha256": _l("SHA-256 digest"),
    "confidential": _l("Confidential"),
    "public": _l("Public"),
    "round": _l("Round"),
    "due_dates": _l("Due dates (question: date)"),
}

FILE_TYPE_LABELS = {
    "pdf": "PDF",
    "docx": _l("Word document (DOCX)"),
    "xlsx": _l("Excel workbook (XLSX)"),
    "odt": _l("OpenDocument text (ODT)"),
    "ods": _l("OpenDocument spreadsheet (ODS)"),
    "png": _l("PNG image"),
    "jpeg": _l("JPEG image"),
}

# Codes raised by the services (ValidationFailed fields) -> what the user reads.
E_FILE_MISSING = "file_missing"
E_FILE_EMPTY = "file_empty"
E_FILE_TOO_LARGE = "file_too_large"
E_FILE_TYPE = "file_type"
E_PDF_BROKEN = "pdf_broken"
E_TITLE_MISSING = "title_missing"
E_TITLE_TOO_LONG = "title_too_long"
E_DOC_TYPE = "doc_type_not_allowed"
E_PUBLIC_NOT_ALLOWED = "public_not_allowed"
E_PUBLIC_CONFIDENTIAL = "public_confidential"
E_ANSWER_MISSING = "answer_missing"
E_ANSWER_TOO_LONG = "answer_too_long"
E_QUESTION_MISSING = "question_missing"
E_TOO_MANY_QUESTIONS = "too_many_questions"

MESSAGES = {
    E_FILE_MISSING: _l("Choose a file to upload."),
    E_FILE_EMPTY: _l("The file is empty: choose a file with content."),
    E_FILE_TOO_LARGE: _l("The file is too large: the limit is %(limit)s."),
    E_PDF_BROKEN: _l(
        "This file starts like a PDF but is not a valid PDF document (it may be a web page "
        "or a damaged file). Save or export it again as PDF and upload it."
    ),
    E_FILE_TYPE: _l(
        "This kind of file is not accepted. Upload a PDF, Word (DOCX), Excel (XLSX), "
        "OpenDocument (ODT, ODS), PNG or JPEG file. Files are recognised by their content, "
        "not by their name."
    ),
    file_types.E_NAME_MISSING: _l("The file has no name: rename it and try again."),
    file_types.E_NAME_PATH: _l(
        "The file name contains a folder path (such as “../”, “/” or “\\”): rename the file "
        "to a plain name and try again."
    ),
    file_types.E_NAME_CONTROL: _l(
        "The file name contains invisible control characters: rename the file and try again."
    ),
    file_types.E_NAME_TOO_LONG: _l("The file name is too long (at most 255 characters)."),
    E_TITLE_MISSING: _l("Give the document a title."),
    E_TITLE_TOO_LONG: _l("The title is too long (at most 200 characters)."),
    E_DOC_TYPE: _l("You may not upload this type of document at this stage."),
    E_PUBLIC_NOT_ALLOWED: _l("Only the agency may publish a document on the public register."),
    E_PUBLIC_CONFIDENTIAL: _l(
        "A confidential document cannot be published: untick one of the two."
    ),
    E_ANSWER_MISSING: _l("Write an answer."),
    E_ANSWER_TOO_LONG: _l("The answer is too long (at most 20,000 characters)."),
    E_QUESTION_MISSING: _l("Write at least one question."),
    E_TOO_MANY_QUESTIONS: _l("At most 50 questions per round."),
    info.E_DUE_NOT_FUTURE: _l("The due date must be after today."),
    info.E_DUE_AFTER_DEADLINE: _l(
        "The due date must not be after the deadline of the information request (%(deadline)s)."
    ),
}


def doc_type_label(code: str) -> str:
    return str(DOC_TYPE_LABELS.get(code, code))


def round_kind_label(code: str) -> str:
    return str(ROUND_KIND_LABELS.get(code, code))


def file_type_label(content_type: str) -> str:
    for file_type in file_types.ACCEPTED_TYPES:
        if file_type.content_type == content_type:
            return str(FILE_TYPE_LABELS[file_type.code])
    return content_type


def human_size(size: int) -> str:
    """52428800 -> "50 MB" in the user's number format (units of 1024, as most file
    managers count them)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{format_decimal(value, '#,##0.#')} {unit}"
        value /= 1024
    return f"{format_decimal(value, '#,##0.#')} GB"
