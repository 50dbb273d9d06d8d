"""The document upload form (validation of the fields only).

What the file is (its content type, size, name) and who may upload which type are checked by
`app.documents.operations`, whose error codes `apply_service_errors` puts on the fields. The
choices of `doc_type` are the types the user may upload now (set per instance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.documents import labels
from app.domain.document_rules import MAX_TITLE_LENGTH
from app.forms.base import AppForm


def doc_type_choices(types: Sequence[str]) -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(code, labels.DOC_TYPE_LABELS.get(code, code)) for code in types
    ]


def error_message(code: str, **values) -> str:
    message = labels.MESSAGES.get(code)
    if message is None:
        return str(_l("This value is not valid."))
    return str(message) % values if values else str(message)


class FieldErrorsMixin:
    """Put the service's error codes on the matching fields (others above the form)."""

    def apply_service_errors(self, errors: Mapping[str, str], **values) -> None:
        for name, code in errors.items():
            message = error_message(code, **values)
            if name in self._fields:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)


class UploadForm(FieldErrorsMixin, AppForm):
    doc_type = SelectField(
        _l("Type of document"),
        validators=[DataRequired(message=_l("Choose the type of document."))],
        choices=[],
    )
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=labels.MESSAGES[labels.E_TITLE_MISSING]),
            Length(max=MAX_TITLE_LENGTH, message=labels.MESSAGES[labels.E_TITLE_TOO_LONG]),
        ],
        description=_l(
            "A file with the same type and title as an existing document becomes its new "
            "version; earlier versions stay available."
        ),
    )
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=labels.MESSAGES[labels.E_FILE_MISSING])],
        description=_l("PDF, Word (DOCX), Excel (XLSX), OpenDocument (ODT, ODS), PNG or JPEG."),
    )
    confidential = BooleanField(
        _l("Confidential"),
        description=_l("Never published; only the parties to the request can download it."),
    )
    public = BooleanField(
        _l("Publish on the public register"),
        description=_l("The agency publishes the assessment report or the recommendation."),
    )

    def set_types(self, types: Sequence[str]) -> UploadForm:
        self.doc_type.choices = doc_type_choices(types)
        return self
