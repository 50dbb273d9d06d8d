"""The study identifiers of evidence milestones: EU CT number, NCT number, EUDAMED
clinical investigation id, registry name."""

from __future__ import annotations

import pytest

from app.domain.evidence import normalise_study_id, takes_milestones


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("eu_ct", "2023-501234-12-00", "2023-501234-12-00"),
        ("eu_ct", " 2004-000001-01-01 ", "2004-000001-01-01"),
        ("nct", "nct04567890", "NCT04567890"),
        ("nct", "NCT 04567890", "NCT04567890"),
        ("eudamed_ci", "civ-it-23-05-012345", "CIV-IT-23-05-012345"),
        ("registry", "  Registro  italiano TAVI ", "Registro italiano TAVI"),
    ],
)
def test_valid_identifiers_are_stored_in_their_canonical_form(kind, typed, stored):
    assert normalise_study_id(kind, typed) == stored


@pytest.mark.parametrize(
    ("kind", "typed", "code"),
    [
        ("eu_ct", "2023-50123-12-00", "format"),  # 5 digits
        ("eu_ct", "1999-501234-12-00", "format"),  # before the EU CT numbers existed
        ("eu_ct", "2023/501234/12/00", "format"),
        ("nct", "NCT1234567", "format"),  # 7 digits
        ("nct", "NCT123456789", "format"),
        ("nct", "ISRCTN12345678", "format"),
        ("eudamed_ci", "CIV-IT-23-13-012345", "format"),  # month 13
        ("eudamed_ci", "CIV-ITA-23-05-012345", "format"),
        ("eudamed_ci", "CIV-IT-23-05-01234", "format"),
        ("registry", "   ", "required"),
        ("registry", "x" * 201, "too_long"),
        ("doi", "10.1000/xyz", "invalid_kind"),
    ],
)
def test_malformed_identifiers_are_refused_with_a_code(kind, typed, code):
    with pytest.raises(ValueError, match=code):
        normalise_study_id(kind, typed)


def test_only_evidence_generation_and_research_outcomes_take_milestones():
    assert takes_milestones("recommended_with_evidence_generation")
    assert takes_milestones("only_in_research")
    assert not takes_milestones("recommended")
    assert not takes_milestones(None)
