"""Reuse, not redo: matching a request to earlier ones, the sources of an existing
assessment, the choice made for each HTA Core Model domain, and the days that saves.

Matching (DOMAIN.md "What a request holds"): two requests concern the same device when they
share a Basic UDI-DI or a UDI-DI, and the same kind of device from the same manufacturer when
they share the manufacturer and the EMDN code. Identifiers are compared in a canonical form:
spaces dropped, upper case, and a GS1 GTIN (the usual UDI-DI) as its 14 digits with a valid
check digit (python-stdnum), so that the GTIN-13 and GTIN-14 spellings of one DI match.
Only valid identifiers match: a mistyped one matches nothing. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stdnum import ean

from app.domain.core_model import DOMAINS
from app.domain.dossier_rules import (
    check_basic_udi_di,
    check_emdn_code,
    check_udi_di,
    compact_identifier,
    normalise_emdn,
)

# Where an existing assessment comes from: one of ours (an earlier request), an EU joint
# clinical assessment, another region's (or country's) HTA report.
SOURCES: tuple[str, ...] = ("ours", "eu_jca", "other_region")
# What is done with each Core Model domain of it.
CHOICES: tuple[str, ...] = ("adopted", "adapted", "redone")
# The share of a domain's work a choice spares: adopted as it is, adapted (about half).
CHOICE_SHARE: Mapping[str, float] = {"adopted": 1.0, "adapted": 0.5, "redone": 0.0}

MATCH_BASIC_UDI_DI = "basic_udi_di"
MATCH_UDI_DI = "udi_di"
MATCH_EMDN_MANUFACTURER = "emdn_and_manufacturer"
# Reasons that mean "the same device" (a duplicate), rather than a similar one.
SAME_DEVICE = frozenset({MATCH_BASIC_UDI_DI, MATCH_UDI_DI})


@dataclass(frozen=True)
class DeviceKeys:
    """The canonical identifiers of a request's device (None when missing or invalid)."""

    basic_udi_di: str | None
    udi_di: str | None
    emdn_code: str | None
    manufacturer_id: int | None


def udi_di_key(value: str | None) -> str | None:
    compact = compact_identifier(value).upper()
    if not compact or check_udi_di(compact) is not None:
        return None
    if compact.isdigit() and ean.is_valid(compact):
        return compact.zfill(14)
    return compact


def basic_udi_di_key(value: str | None) -> str | None:
    compact = compact_identifier(value)
    if not compact or check_basic_udi_di(compact) is not None:
        return None
    return compact.upper()


def emdn_key(value: str | None) -> str | None:
    code = normalise_emdn(value)
    return code if code and check_emdn_code(code) is None else None


def keys_of(request) -> DeviceKeys:
    return DeviceKeys(
        basic_udi_di_key(getattr(request, "basic_udi_di", "")),
        udi_di_key(getattr(request, "udi_di", "")),
        emdn_key(getattr(request, "emdn_code", "")),
        getattr(request, "manufacturer_id", None),
    )


def match_reasons(a: DeviceKeys, b: DeviceKeys) -> tuple[str, ...]:
    """Why `b` matches `a` (empty: it does not)."""
    reasons = []
    if a.basic_udi_di and a.basic_udi_di == b.basic_udi_di:
        reasons.append(MATCH_BASIC_UDI_DI)
    if a.udi_di and a.udi_di == b.udi_di:
        reasons.append(MATCH_UDI_DI)
    if a.emdn_code and a.emdn_code == b.emdn_code and a.manufacturer_id == b.manufacturer_id:
        reasons.append(MATCH_EMDN_MANUFACTURER)
    return tuple(reasons)


def is_duplicate(reasons: tuple[str, ...]) -> bool:
    return bool(SAME_DEVICE.intersection(reasons))


def days_saved(choices: Mapping[str, str], assessment_days: float) -> float:
    """The assessment days a reuse spares: the assessment stage's days times the share of
    the Core Model domains not redone (adopted 1, adapted 0.5; each domain an equal part),
    rounded to one decimal."""
    share = sum(CHOICE_SHARE.get(choice, 0.0) for choice in choices.values()) / len(DOMAINS)
    return round(assessment_days * share, 1)
