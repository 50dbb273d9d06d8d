"""Evidence milestones: what a recommendation "with evidence generation" (or "only in
research") asks to be generated, from which study or registry, run by which IRCCS, by when.

Study identifiers (validated formats):
- EU CT number (Clinical Trials Information System, Regulation 536/2014): YYYY-NNNNNN-NN-NN,
  e.g. 2023-501234-12-00 (the year a four-digit year from 2004);
- ClinicalTrials.gov: "NCT" and 8 digits, e.g. NCT04567890;
- EUDAMED clinical investigation id (CIV-ID): CIV-CC-YY-MM-NNNNNN, e.g. CIV-IT-23-05-012345
  (CC a country code, MM a month);
- a registry: its name (free text).
Each validator takes what a person typed and returns the value to store (trimmed, upper
case) or raises ValueError with a code. Pure functions.
"""

from __future__ import annotations

import re

ID_KINDS: tuple[str, ...] = ("eu_ct", "nct", "eudamed_ci", "registry")
MILESTONE_OUTCOMES = frozenset({"recommended_with_evidence_generation", "only_in_research"})
STATUSES: tuple[str, ...] = ("open", "delivered", "missed")
REGISTRY_MAX = 200
FIRST_EU_CT_YEAR = 2004

EU_CT_NUMBER = re.compile(r"(?P<year>\d{4})-\d{6}-\d{2}-\d{2}")
NCT_NUMBER = re.compile(r"NCT\d{8}")
CIV_ID = re.compile(r"CIV-[A-Z]{2}-\d{2}-(?P<month>\d{2})-\d{6}")


def normalise_study_id(kind: str, value: str | None) -> str:
    """The identifier to store, or ValueError("required" | "invalid_kind" | "format")."""
    text = re.sub(r"\s+", " ", value or "").strip()
    if not text:
        raise ValueError("required")
    if kind == "registry":
        if len(text) > REGISTRY_MAX:
            raise ValueError("too_long")
        return text
    compact = text.replace(" ", "").upper()
    if kind == "eu_ct":
        match = EU_CT_NUMBER.fullmatch(compact)
        if match is None or int(match.group("year")) < FIRST_EU_CT_YEAR:
            raise ValueError("format")
        return compact
    if kind == "nct":
        if NCT_NUMBER.fullmatch(compact) is None:
            raise ValueError("format")
        return compact
    if kind == "eudamed_ci":
        match = CIV_ID.fullmatch(compact)
        if match is None or not 1 <= int(match.group("month")) <= 12:
            raise ValueError("format")
        return compact
    raise ValueError("invalid_kind")


def takes_milestones(outcome: str | None) -> bool:
    return outcome in MILESTONE_OUTCOMES
