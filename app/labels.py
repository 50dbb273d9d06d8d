"""Human labels (translatable) for the domain's codes. Templates and forms use these."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain import dossier_fields
from app.domain.vocab import REGION_NAMES

ROLE_LABELS = {
    "manufacturer": _l("Manufacturer"),
    "agency": _l("Central agency"),
    "assessor": _l("Regional HTA assessor"),
    "irccs": _l("IRCCS"),
    "admin": _l("Administrator"),
}

ORG_KIND_LABELS = {
    "manufacturer": _l("Manufacturer"),
    "agency": _l("Central agency"),
    "regional_body": _l("Regional HTA body"),
    "irccs": _l("IRCCS"),
}

REGULATION_LABELS = {
    "mdr": _l("MDR (EU) 2017/745"),
    "ivdr": _l("IVDR (EU) 2017/746"),
    "legacy": _l("Legacy directive (MDD/AIMDD/IVDD)"),
}

SEVERITY_LABELS = {
    "mild": _l("Mild"),
    "moderate": _l("Moderate"),
    "severe": _l("Severe"),
    "life_threatening": _l("Life-threatening"),
}

CARE_SETTING_LABELS = {
    "inpatient": _l("Inpatient"),
    "outpatient": _l("Outpatient"),
    "day_hospital": _l("Day hospital"),
    "home": _l("Home care"),
    "emergency": _l("Emergency"),
    "other": _l("Other"),
}

EVIDENCE_DESIGN_LABELS = {
    "systematic_review": _l("Systematic review / meta-analysis"),
    "rct": _l("Randomised controlled trial"),
    "non_randomised_trial": _l("Non-randomised trial"),
    "cohort": _l("Cohort study"),
    "case_control": _l("Case-control study"),
    "registry": _l("Registry"),
    "case_series": _l("Case series"),
    "other": _l("Other"),
}

LANGUAGE_LABELS = {"it": "Italiano", "en": "English"}

# The dossier's field and section labels, declared with the field schema
# (`app.domain.dossier_fields`) and translated here.
DOSSIER_FIELD_LABELS = {field.name: _l(field.label) for field in dossier_fields.DOSSIER_FIELDS}
DOSSIER_SECTION_LABELS = {
    section: _l(label) for section, label in dossier_fields.SECTION_LABELS.items()
}
# The choice fields' vocabularies, by field name.
DOSSIER_CHOICE_LABELS = {
    "regulation": REGULATION_LABELS,
    "severity": SEVERITY_LABELS,
    "care_setting": CARE_SETTING_LABELS,
}


def region_label(code: str | None) -> str:
    return REGION_NAMES.get(code or "", "")
