"""Forms of evidence milestones: setting one, delivering it (its document), missing it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms.assessment import _choices
from app.forms.base import AppForm

ID_KIND_LABELS = {
    "eu_ct": _l("EU CT number (YYYY-NNNNNN-NN-NN)"),
    "nct": _l("ClinicalTrials.gov number (NCT########)"),
    "eudamed_ci": _l("EUDAMED clinical investigation id (CIV-CC-YY-MM-NNNNNN)"),
    "registry": _l("Registry (its name)"),
}
STATUS_LABELS = {
    "open": _l("Open"),
    "delivered": _l("Delivered"),
    "missed": _l("Missed"),
}
STUDY_ID_MESSAGES = {
    "required": _l("This field is required."),
    "format": _l("This identifier does not have the format of the kind chosen."),
    "too_long": _l("This text is too long."),
    "invalid_kind": _l("Choose the kind of identifier."),
}


class MilestoneForm(AppForm):
    evidence = TextAreaField(
        _l("Evidence to generate"),
        validators=[DataRequired(message=_l("This field is required.")), Length(max=4000)],
        render_kw={"rows": 2},
    )
    id_kind = SelectField(
        _l("Study or registry"),
        choices=_choices([("", "—"), *ID_KIND_LABELS.items()]),
        validators=[DataRequired(message=_l("Choose the kind of identifier."))],
    )
    study_id = StringField(
        _l("Identifier or registry name"),
        validators=[DataRequired(message=_l("This field is required.")), Length(max=200)],
    )
    irccs_id = SelectField(_l("IRCCS running it"), coerce=str, validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[DataRequired(message=_l("Enter a date."))])

    def values(self) -> dict:
        irccs = self.irccs_id.data or ""
        return {
            "evidence": self.evidence.data,
            "id_kind": self.id_kind.data,
            "study_id": self.study_id.data,
            "irccs_id": int(irccs) if irccs.isdigit() else None,
            "due_on": self.due_on.data,
        }


class DeliverForm(AppForm):
    file = FileField(_l("Document"), validators=[FileRequired(message=_l("Choose a file."))])


class MissForm(AppForm):
    reason = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=2000)])
