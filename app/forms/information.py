"""Forms of the information requests (validation of the fields only).

- ComposeRoundForm: the assessor's numbered questions, each with an optional due date (rows
  left empty are ignored; "Add a question" adds a row without JavaScript);
- AnswerForm: the manufacturer's draft answer to one question, with an optional file;
- SendAnswersForm: sends every answer of the round (the version guards against a stale page).

Whether a due date falls within the stage deadline, and who may do what, is checked by
`app.documents.information`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from app.documents.labels import E_ANSWER_TOO_LONG, MESSAGES
from app.domain import information_rules as rules
from app.domain.document_rules import MANUFACTURER_TYPES, MAX_TITLE_LENGTH
from app.forms.base import AppForm
from app.forms.documents import FieldErrorsMixin, doc_type_choices

DEFAULT_QUESTION_ROWS = 3
INVALID_DATE = _l("Enter a date as day, month and year.")


class VersionedForm(AppForm):
    expected_version = HiddenField()

    def version(self) -> str:
        """As sent: a blank or malformed version is refused by the kernel, never ignored."""
        return (self.expected_version.data or "").strip()


class QuestionRowForm(Form):
    text = TextAreaField(
        _l("Question"),
        validators=[Optional(), Length(max=rules.MAX_QUESTION_LENGTH)],
        render_kw={"rows": 2},
    )
    due_on = DateField(
        _l("Answer due by (optional)"),
        validators=[Optional()],
    )


class ComposeRoundForm(FieldErrorsMixin, VersionedForm):
    questions = FieldList(
        FormField(QuestionRowForm),
        min_entries=DEFAULT_QUESTION_ROWS,
        max_entries=rules.MAX_QUESTIONS,
    )

    def add_row(self) -> None:
        if len(self.questions.entries) < rules.MAX_QUESTIONS:
            self.questions.append_entry()

    def rows(self) -> list[tuple[str, object]]:
        return [(entry.form.text.data or "", entry.form.due_on.data) for entry in self.questions]

    def localise_date_errors(self) -> None:
        """WTForms' own "Not a valid date value." becomes our translated sentence."""
        for entry in self.questions:
            if entry.form.due_on.errors:
                entry.form.due_on.errors = [str(INVALID_DATE)]


class AnswerForm(FieldErrorsMixin, AppForm):
    text = TextAreaField(
        _l("Your answer"),
        validators=[
            Length(max=rules.MAX_ANSWER_LENGTH, message=MESSAGES[E_ANSWER_TOO_LONG]),
        ],
        render_kw={"rows": 5},
    )
    file = FileField(
        _l("Attach a file (optional)"),
        description=_l("PDF, Word (DOCX), Excel (XLSX), OpenDocument (ODT, ODS), PNG or JPEG."),
    )
    doc_type = SelectField(
        _l("Type of the attached document"),
        choices=doc_type_choices(MANUFACTURER_TYPES),
        default="other",
        validators=[Optional()],
    )
    title = StringField(
        _l("Title of the attached document"),
        validators=[Optional(), Length(max=MAX_TITLE_LENGTH)],
        description=_l("Leave empty to use the file name."),
    )
    confidential = BooleanField(_l("The attached document is confidential"))


class SendAnswersForm(VersionedForm):
    pass
