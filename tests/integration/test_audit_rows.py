"""The audit trail as people read it: every data and change key in words, codes as labels."""

from __future__ import annotations

from flask_babel import force_locale

from app.requests.action_panel import audit_rows
from tests.factories import audit_entry


def test_score_and_assessment_changes_are_named_in_words(app):
    scores = audit_entry(
        "priority_scores_edited",
        changes={"unmet_need.score": [None, 3], "unmet_need.justification": ["", "Rare."]},
    )
    assessment = audit_entry(
        "assessment_edited", changes={"safety.status": ["not_started", "done"]}
    )
    with app.test_request_context(), force_locale("en"):
        rows = audit_rows([scores, assessment])
    assert rows[0].changes == [
        ("Unmet need: score", "", "3"),
        ("Unmet need: justification", "", "Rare."),
    ]
    assert rows[1].changes == [("Safety: status", "Not started", "Done")]


def test_conflict_and_usage_data_keys_are_named_in_words(app):
    declaration = audit_entry("coi_declared", data={"has_conflict": False, "description": "None."})
    usage = audit_entry("usage_reported", data={"period": "2026-Q1", "units": 4, "spend": "100.00"})
    with app.test_request_context(), force_locale("it"):
        rows = audit_rows([declaration, usage])
    names = [name for row in rows for name, _ in row.data]
    assert names == [
        "Dichiara un conflitto di interessi",
        "Descrizione",
        "Trimestre",
        "Unità utilizzate",
        "Spesa (EUR)",
    ]
