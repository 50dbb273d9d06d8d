"""The closed vocabularies of the domain, as stable codes.

Codes are what the database stores and the API exchanges; human labels (Italian and English)
live in `app.labels` so that this module stays free of Flask.
"""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    MANUFACTURER = "manufacturer"
    AGENCY = "agency"
    REGIONAL_BODY = "regional_body"
    IRCCS = "irccs"


class Role(StrEnum):
    MANUFACTURER = "manufacturer"
    AGENCY = "agency"
    ASSESSOR = "assessor"
    IRCCS = "irccs"
    ADMIN = "admin"


# Which organisation kind each role belongs to (admin belongs to none).
ROLE_ORG_KIND: dict[Role, OrgKind | None] = {
    Role.MANUFACTURER: OrgKind.MANUFACTURER,
    Role.AGENCY: OrgKind.AGENCY,
    Role.ASSESSOR: OrgKind.REGIONAL_BODY,
    Role.IRCCS: OrgKind.IRCCS,
    Role.ADMIN: None,
}

# The 19 regions and the 2 autonomous provinces (ISTAT order).
REGIONS: tuple[str, ...] = (
    "piemonte",
    "valle_d_aosta",
    "lombardia",
    "pa_bolzano",
    "pa_trento",
    "veneto",
    "friuli_venezia_giulia",
    "liguria",
    "emilia_romagna",
    "toscana",
    "umbria",
    "marche",
    "lazio",
    "abruzzo",
    "molise",
    "campania",
    "puglia",
    "basilicata",
    "calabria",
    "sicilia",
    "sardegna",
)

REGION_NAMES: dict[str, str] = {
    "piemonte": "Piemonte",
    "valle_d_aosta": "Valle d'Aosta",
    "lombardia": "Lombardia",
    "pa_bolzano": "P.A. Bolzano",
    "pa_trento": "P.A. Trento",
    "veneto": "Veneto",
    "friuli_venezia_giulia": "Friuli Venezia Giulia",
    "liguria": "Liguria",
    "emilia_romagna": "Emilia-Romagna",
    "toscana": "Toscana",
    "umbria": "Umbria",
    "marche": "Marche",
    "lazio": "Lazio",
    "abruzzo": "Abruzzo",
    "molise": "Molise",
    "campania": "Campania",
    "puglia": "Puglia",
    "basilicata": "Basilicata",
    "calabria": "Calabria",
    "sicilia": "Sicilia",
    "sardegna": "Sardegna",
}


class Regulation(StrEnum):
    MDR = "mdr"
    IVDR = "ivdr"
    LEGACY = "legacy"


MDR_CLASSES = ("I", "IIa", "IIb", "III")
IVDR_CLASSES = ("A", "B", "C", "D")
RISK_CLASSES = MDR_CLASSES + IVDR_CLASSES

# Legacy devices (MDD/AIMDD/IVDD certificates still valid under the transition rules) keep
# their old classes, which map onto the same names.
RISK_CLASSES_BY_REGULATION: dict[str, tuple[str, ...]] = {
    Regulation.MDR: MDR_CLASSES,
    Regulation.IVDR: IVDR_CLASSES,
    Regulation.LEGACY: RISK_CLASSES,
}

SEVERITIES = ("mild", "moderate", "severe", "life_threatening")
CARE_SETTINGS = ("inpatient", "outpatient", "day_hospital", "home", "emergency", "other")
EVIDENCE_DESIGNS = (
    "systematic_review",
    "rct",
    "non_randomised_trial",
    "cohort",
    "case_control",
    "registry",
    "case_series",
    "other",
)

LANGUAGES = ("it", "en")
