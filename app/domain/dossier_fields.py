"""The dossier's fields, each declared once: section, label, kind, confidentiality, publicity.

Every place that lists dossier fields asks this table: the dossier form (labels, the
"confidential" choices), the request page, the record PDF, the API's serialiser and schema, and
the public register. A field added here appears in all of them, and the marker test
(tests/functional/test_no_leaks.py) plants a marker in every confidential-capable one.

Pure: no Flask. Labels are English message ids marked with the no-op `_l` below, so
`pybabel extract -k _l` collects them; `app.labels.DOSSIER_FIELD_LABELS` turns them into lazy
translated strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


def _l(message: str) -> str:
    """Mark a label for extraction (translated later, by `app.labels`)."""
    return message


class Kind(StrEnum):
    """How a value is stored, typed and shown."""

    LINE = "line"  # one line of text
    TEXT = "text"  # free text, several lines
    IDENTIFIER = "identifier"  # a code, shown in a monospaced font
    CHOICE = "choice"  # a code from a closed vocabulary
    DATE = "date"
    FLAG = "flag"  # yes / no
    CONSENT = "consent"  # yes / no / not answered yet
    MONEY = "money"  # EUR
    COUNT = "count"  # a whole number
    ROWS = "rows"  # repeatable rows (comparators, evidence)
    FIELD_NAMES = "field_names"  # the list of fields marked confidential


class Register(StrEnum):
    """Where the public register may show a field (unless the manufacturer marked it
    confidential)."""

    SUMMARY = "summary"  # every public row: list, CSV, feed and the request's public page
    DETAIL = "detail"  # the request's public page only


@dataclass(frozen=True)
class DossierField:
    name: str
    section: str
    label: str  # English message id; translated by app.labels.DOSSIER_FIELD_LABELS
    kind: Kind
    # The manufacturer may mark it confidential: then only the parties to the request see it.
    confidential_capable: bool = False
    # Where the public register may show it; None: never public (commercial or internal data).
    register: Register | None = None
    # The column (and JSON key) of the field in exports and the API; None: not exported.
    export_column: str | None = None

    @property
    def may_be_public(self) -> bool:
        return self.register is not None


SECTIONS = ("device", "clinical", "economics", "administration")
SECTION_LABELS = {
    "device": _l("Device"),
    "clinical": _l("Clinical question (PICO)"),
    "economics": _l("Economics"),
    "administration": _l("Administration"),
}


def _field(name, section, label, kind, *, confidential=False, register=None, exported=True):
    return DossierField(
        name=name,
        section=section,
        label=label,
        kind=kind,
        confidential_capable=confidential,
        register=register,
        export_column=name if exported else None,
    )


S, D = Register.SUMMARY, Register.DETAIL

# In the order of the form and of the request page.
DOSSIER_FIELDS: tuple[DossierField, ...] = (
    # Device
    _field("trade_name", "device", _l("Trade name"), Kind.LINE, register=S),
    _field("model", "device", _l("Model"), Kind.LINE, register=S),
    _field(
        "intended_purpose",
        "device",
        _l("Intended purpose"),
        Kind.TEXT,
        confidential=True,
        register=D,
    ),
    _field("regulation", "device", _l("Regulation"), Kind.CHOICE, register=S),
    _field("risk_class", "device", _l("Risk class"), Kind.CHOICE, register=S),
    _field("basic_udi_di", "device", _l("Basic UDI-DI"), Kind.IDENTIFIER),
    _field("udi_di", "device", _l("UDI-DI"), Kind.IDENTIFIER),
    _field("emdn_code", "device", _l("EMDN (CND) code"), Kind.IDENTIFIER, register=S),
    _field(
        "repertorio_number",
        "device",
        _l("Repertorio number (Italian device registry)"),
        Kind.IDENTIFIER,
    ),
    _field("notified_body_number", "device", _l("Notified body number"), Kind.IDENTIFIER),
    _field("ce_certificate_number", "device", _l("CE certificate number"), Kind.LINE),
    _field("ce_certificate_issued_on", "device", _l("CE certificate issued on"), Kind.DATE),
    _field("ce_certificate_expires_on", "device", _l("CE certificate expires on"), Kind.DATE),
    _field("is_software", "device", _l("Software as a medical device"), Kind.FLAG, register=D),
    _field("uses_ai", "device", _l("Uses artificial intelligence"), Kind.FLAG, register=D),
    _field("is_implantable", "device", _l("Implantable"), Kind.FLAG, register=D),
    # Clinical question (PICO)
    _field("condition", "clinical", _l("Condition"), Kind.TEXT, register=D),
    _field("severity", "clinical", _l("Severity"), Kind.CHOICE, register=D),
    _field("population", "clinical", _l("Population"), Kind.TEXT, register=D),
    _field(
        "eligible_patients_per_year",
        "clinical",
        _l("Eligible patients per year (Italy)"),
        Kind.COUNT,
        register=D,
    ),
    _field("intervention", "clinical", _l("Intervention"), Kind.TEXT, register=D),
    _field("care_setting", "clinical", _l("Care setting"), Kind.CHOICE, register=D),
    _field(
        "comparators",
        "clinical",
        _l("Comparators (current standard of care)"),
        Kind.ROWS,
        register=D,
    ),
    _field("outcomes", "clinical", _l("Outcomes"), Kind.TEXT, register=D),
    _field(
        "claimed_benefits",
        "clinical",
        _l("Claimed benefits"),
        Kind.TEXT,
        confidential=True,
        register=D,
    ),
    _field("unmet_need", "clinical", _l("Unmet need"), Kind.TEXT, register=D),
    _field("evidence", "clinical", _l("Evidence"), Kind.ROWS, confidential=True, register=D),
    # Economics: commercial data, never public whether or not marked confidential.
    _field("list_price", "economics", _l("List price"), Kind.MONEY, confidential=True),
    _field("acquisition_cost", "economics", _l("Acquisition cost"), Kind.MONEY, confidential=True),
    _field(
        "running_costs_per_year",
        "economics",
        _l("Running costs per year"),
        Kind.MONEY,
        confidential=True,
    ),
    _field(
        "budget_impact_3y",
        "economics",
        _l("Budget impact over 3 years"),
        Kind.MONEY,
        confidential=True,
    ),
    _field(
        "expected_volume_per_year",
        "economics",
        _l("Expected volume per year (units)"),
        Kind.COUNT,
        confidential=True,
    ),
    # Administration
    _field("consent_to_publication", "administration", _l("Consent to publication"), Kind.CONSENT),
    _field(
        "confidential_fields",
        "administration",
        _l("Confidential fields"),
        Kind.FIELD_NAMES,
        exported=False,
    ),
    _field("coi_declaration", "administration", _l("Conflicts of interest"), Kind.TEXT),
    _field(
        "coi_declared",
        "administration",
        _l("Declaration of conflicts of interest"),
        Kind.FLAG,
    ),
)

FIELDS_BY_NAME: dict[str, DossierField] = {field.name: field for field in DOSSIER_FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(FIELDS_BY_NAME)
CONFIDENTIAL_CAPABLE_FIELDS: tuple[str, ...] = tuple(
    field.name for field in DOSSIER_FIELDS if field.confidential_capable
)
# Shown as values on the request page and in the record (the list of confidential fields is
# shown apart, to the parties only).
VALUE_FIELDS: tuple[DossierField, ...] = tuple(
    field for field in DOSSIER_FIELDS if field.kind is not Kind.FIELD_NAMES
)
EXPORTED_FIELDS: tuple[DossierField, ...] = tuple(
    field for field in DOSSIER_FIELDS if field.export_column is not None
)


def fields_of_kind(*kinds: Kind) -> tuple[str, ...]:
    return tuple(field.name for field in DOSSIER_FIELDS if field.kind in kinds)


def fields_in_section(section: str) -> tuple[DossierField, ...]:
    return tuple(field for field in DOSSIER_FIELDS if field.section == section)


def register_fields(*places: Register) -> tuple[str, ...]:
    """The fields the public register may show in `places` (before confidentiality)."""
    return tuple(field.name for field in DOSSIER_FIELDS if field.register in places)


def marked_confidential(confidential_fields: Iterable[str] | None) -> frozenset[str]:
    """The fields a request's manufacturer marked confidential."""
    return frozenset(confidential_fields or ())
