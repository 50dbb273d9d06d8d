"""Forms of the reuse of existing assessments: recording a prior assessment, and the choice
for each HTA Core Model domain (input shape only; the rules are in `app.assessment.reuse`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional

from app.domain.core_model import DOMAINS
from app.forms.assessment import _choices, field_name
from app.forms.base import AppForm

REQUIRED = _l("This field is required.")
SOURCE_LABELS = {
    "ours": _l("One of our earlier requests"),
    "eu_jca": _l("EU joint clinical assessment"),
    "other_region": _l("Another region's (or country's) HTA report"),
}
CHOICE_LABELS = {
    "adopted": _l("Adopted"),
    "adapted": _l("Adapted"),
    "redone": _l("Redone"),
}
MATCH_LABELS = {
    "basic_udi_di": _l("same Basic UDI-DI"),
    "udi_di": _l("same UDI-DI"),
    "emdn_and_manufacturer": _l("same EMDN code and manufacturer"),
}


class PriorForm(AppForm):
    source = SelectField(
        _l("Source"),
        choices=_choices([("", "—"), *SOURCE_LABELS.items()]),
        validators=[DataRequired(message=_l("Choose where the assessment comes from."))],
    )
    reference = StringField(
        _l("Reference (title, number)"),
        validators=[DataRequired(message=REQUIRED), Length(max=300)],
    )
    issued_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))])
    url = StringField(
        _l("Link"),
        validators=[
            Optional(),
            Length(max=500),
            URL(require_tld=False, message=_l("Enter a web address starting with https://")),
        ],
    )
    source_request_id = SelectField(_l("Earlier request"), coerce=str, validate_choice=False)

    def values(self) -> dict:
        source_request = self.source_request_id.data or ""
        return {
            "source": self.source.data,
            "reference": self.reference.data,
            "issued_on": self.issued_on.data,
            "url": self.url.data or "",
            "source_request_id": int(source_request) if source_request.isdigit() else None,
        }


def domains_form_class(prior_choices: list[tuple[str, str]]) -> type[AppForm]:
    """Per domain: the choice (empty: none) and which prior assessment, with a note."""
    attributes = {}
    from app.forms.assessment import DOMAIN_LABELS

    for domain in DOMAINS:
        attributes[field_name("choice", domain)] = SelectField(
            DOMAIN_LABELS[domain],
            choices=_choices([("", "—"), *CHOICE_LABELS.items()]),
            validators=[Optional()],
        )
        attributes[field_name("prior", domain)] = SelectField(
            _l("Prior assessment"),
            choices=_choices([("", "—"), *prior_choices]),
            validators=[Optional()],
        )
        attributes[field_name("note", domain)] = TextAreaField(
            _l("Note"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 1}
        )
    return type("DomainReuseForm", (DomainReuseBase,), attributes)


class DomainReuseBase(AppForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for domain in DOMAINS:
            choice = self[field_name("choice", domain)]
            prior = self[field_name("prior", domain)]
            if choice.data and not prior.data:
                prior.errors = [*prior.errors, _l("Choose the prior assessment it comes from.")]
                valid = False
        return valid

    def entries(self) -> dict[str, tuple[str | None, int | None, str]]:
        entries = {}
        for domain in DOMAINS:
            choice = self[field_name("choice", domain)].data or None
            prior = self[field_name("prior", domain)].data or ""
            note = self[field_name("note", domain)].data or ""
            entries[domain] = (choice, int(prior) if prior.isdigit() else None, note)
        return entries
