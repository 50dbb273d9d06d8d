"""IRCCS needs: the rules of an unmet clinical need and of the "declared need" criterion.

An IRCCS (or a regional HTA body) posts an unmet clinical need; other IRCCS endorse it; a
manufacturer links its requests to it. The prioritisation criterion "declared need" is not
scored by hand: it is filled from those data with `declared_need_score`. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TEXT_FIELDS = ("condition", "population", "standard_of_care", "gap")
PATIENTS_MAX = 10_000_000
TEXT_MAX = 4000

# "Many patients": a need declared for at least this many patients a year adds a point.
MANY_PATIENTS = 1000


@dataclass(frozen=True)
class NeedFigures:
    """What the requests' linked needs declare: distinct IRCCS (posters and endorsers) and
    the largest number of patients per year among the needs."""

    needs: int = 0
    irccs: int = 0
    patients: int = 0


def check_need(values: dict) -> dict[str, str]:
    """{field: error code} for a need's fields (empty when valid)."""
    errors = {}
    for name in TEXT_FIELDS:
        text = (values.get(name) or "").strip()
        if not text:
            errors[name] = "required"
        elif len(text) > TEXT_MAX:
            errors[name] = "too_long"
    patients = values.get("patients_per_year")
    if patients is None or patients == "":
        errors["patients_per_year"] = "required"
    elif not isinstance(patients, int) or isinstance(patients, bool):
        errors["patients_per_year"] = "invalid_number"
    elif not 1 <= patients <= PATIENTS_MAX:
        errors["patients_per_year"] = "out_of_range"
    return errors


def declared_need_score(irccs: int, patients: int) -> int:
    """The 0-3 score of the "declared need" criterion.

    0 when no need is linked to the request (no patients declared); otherwise by the number of
    distinct IRCCS behind its needs (none, i.e. a regional body's need, or 1: 1; 2-3: 2; 4 or
    more: 3), one point more (at most 3) when a need counts at least MANY_PATIENTS patients a
    year: a need shared by many centres, or large, weighs more than one hospital's wish."""
    if patients <= 0:
        return 0
    score = 1 if irccs <= 1 else 2 if irccs <= 3 else 3
    if patients >= MANY_PATIENTS:
        score += 1
    return min(score, 3)


def figures(needs: Iterable[tuple[int | None, Iterable[int], int]]) -> NeedFigures:
    """Combine linked needs given as (posting IRCCS id or None, endorsing IRCCS ids,
    patients per year)."""
    irccs: set[int] = set()
    patients = 0
    count = 0
    for poster, endorsers, per_year in needs:
        count += 1
        if poster is not None:
            irccs.add(poster)
        irccs.update(endorsers)
        patients = max(patients, per_year or 0)
    return NeedFigures(count, len(irccs), patients)
