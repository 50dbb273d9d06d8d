"""The register's summary rows read as plain columns, and pages of plain rows (core.paging):

- a summary row gives `to_public` exactly what the ORM request gave (fields the manufacturer
  hid, a published recommendation, a draft under consultation, none);
- the last page's total is its rows (no count statement), and a page past the end still
  counts; kept page and count statements read the data as it is now;
- the state labels kept per language (and role) are that language's words.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from app.core.paging import paginate_rows
from app.extensions import db
from app.models import DeviceRequest
from app.models.types import utcnow
from app.public import register
from app.requests.list_rows import state_labels
from tests.functional.test_public_register import fresh, public_request, recommend
from tests.statement_support import counting_statements


def _orm_rows(now) -> dict[int, dict]:
    requests = db.session.scalars(register.register_query(register.RegisterFilters())).unique()
    requests = list(requests)
    stages = register.stages_by_request([r.id for r in requests])
    return {r.id: register.to_public(r, stages=stages[r.id], now=now) for r in requests}


def test_summary_rows_serialise_as_the_orm_requests(app, make):
    hidden = public_request(make, "appraisal", confidential_fields=["model", "emdn_code"])
    published = public_request(make, "adoption_monitoring")
    recommend(published, "recommended_restricted", "Only in hub centres.", conditions="Hubs")
    draft = public_request(make, "consultation")
    recommend(draft, "not_recommended", published=False)
    unpublished = public_request(make, "appraisal")
    recommend(unpublished, "recommended", published=False)
    fresh()
    now = utcnow() + timedelta(hours=5)
    with app.test_request_context():
        _, rows = register.list_register(register.RegisterFilters(), page=1, per_page=25, now=now)
        expected = _orm_rows(now)
    assert {row["id"] for row in rows} == {hidden.id, published.id, draft.id, unpublished.id}
    for row in rows:
        assert row == expected[row["id"]]
        assert list(row) == list(expected[row["id"]])  # (and in the same order: the CSV's)
    by_id = {row["id"]: row for row in rows}
    assert "model" not in by_id[hidden.id] and "emdn_code" not in by_id[hidden.id]
    assert by_id[published.id]["recommendation"]["status"] == "published"
    assert by_id[draft.id]["recommendation"]["status"] == "draft"
    assert by_id[unpublished.id]["recommendation"] is None


def _page(page: int, per_page: int, kept: bool = False):
    query = select(DeviceRequest.id).order_by(DeviceRequest.id)
    return paginate_rows(query, page, per_page, kept=kept)


def test_a_page_and_its_count_are_one_statement_and_a_page_past_the_end_counts(app, make):
    ids = []
    for _ in range(5):
        ids.append(make.request().id)
    db.session.flush()
    with app.test_request_context():
        with counting_statements() as statements:
            first = _page(1, 3)
        assert len(statements) == 1
        assert (first.total, first.total_exact, first.items) == (5, True, [(i,) for i in ids[:3]])
        assert (first.pages, first.has_next) == (2, True)
        with counting_statements() as statements:
            last = _page(2, 3)
        assert (len(statements), last.total, last.items) == (1, 5, [(i,) for i in ids[3:]])
        with counting_statements() as statements:
            past = _page(4, 3)
        assert (len(statements), past.total, past.items) == (2, 5, [])


def test_a_count_past_its_bound_says_more_than(app, make, monkeypatch):
    monkeypatch.setattr("app.core.paging.COUNT_LOOKAHEAD", 3)
    for _ in range(6):
        make.request()
    db.session.flush()
    with app.test_request_context():
        first, second = _page(1, 2), _page(2, 2)
    assert (first.total, first.total_exact) == (3, False)  # (counted up to 0 + 3 rows)
    assert (second.total, second.total_exact) == (5, False)  # (up to 2 + 3)


def test_kept_page_and_count_statements_read_the_data_as_it_is_now(app, make):
    query = select(DeviceRequest.id).order_by(DeviceRequest.id)
    for _ in range(3):
        make.request()
    db.session.flush()
    with app.test_request_context():
        before = paginate_rows(query, 1, 2, kept=True)
        make.request()
        db.session.flush()
        after = paginate_rows(query, 1, 2, kept=True)
        assert (before.total, after.total) == (3, 4)
        assert after.items == before.items


def test_kept_labels_are_each_languages_words(app):
    with app.test_request_context():
        with force_locale("en"):
            english = register.public_labels()["withdrawn"], state_labels("manufacturer")
            assert register.public_labels()["withdrawn"] == "Withdrawn by the manufacturer"
            assert state_labels("agency")["intake_review"] == "Intake review"
            assert state_labels("manufacturer")["intake_review"] == (
                "Submitted: admissibility check"
            )
        with force_locale("it"):
            italian = register.public_labels()["withdrawn"], state_labels("manufacturer")
            assert state_labels("agency")["intake_review"] != "Intake review"
        assert english[1]["intake_review"] != italian[1]["intake_review"]
        assert english[0] != italian[0]
