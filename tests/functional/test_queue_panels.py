"""The work queue's side panels read in one statement (`app.workqueue.panels`, a UNION ALL
of parts, `app.workqueue.union`) give what the functions they replace on the queue page give,
for every demo user: the barriers (`queue_barriers`), the comments to moderate
(`pending_comments`), a region's tariff cases (`region_queue`), the agency's duplicate flags
(`duplicate_counts`) and an IRCCS's tariff waits (`tariff_waits`); an IRCCS's queue read as
plain columns gives the records' own page. And the barrier rows kept whole by the template
follow the data and the language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.adoption.barriers import queue_barriers
from app.core.paging import paginate
from app.extensions import db
from app.models import Adoption, AdoptionBarrier, DeviceRequest, User
from app.models.types import utcnow
from app.public.consultation import pending_comments
from app.reimbursement.queries import region_queue, tariff_waits
from app.templating import LAYOUT_FRAGMENTS
from app.workqueue.duplicates import duplicate_counts
from app.workqueue.panels import queue_page
from app.workqueue.queries import OPEN_ADOPTION_STATES, QueueFilters
from app.workqueue.union import Part, read_parts


def _seeded_users(runner) -> list[User]:
    assert runner.invoke(args=["seed-demo", "--copies", "1"]).exit_code == 0
    return list(db.session.scalars(select(User).where(User.role != "admin").order_by(User.id)))


def _case(row) -> tuple:
    case = row.case
    maker = case.request.manufacturer
    return (
        case.id,
        case.state,
        case.requested_at,
        case.due_at,
        case.request.title,
        case.request.receipt_number,
        maker.name if maker is not None else None,
        row.status,
        row.row_class,
    )


def test_the_panels_are_what_the_functions_give_for_every_demo_user(runner):
    users = _seeded_users(runner)
    now = utcnow()
    seen = set()
    for user in users:
        for filters in (QueueFilters(), QueueFilters(page=2), QueueFilters(text="a")):
            page, panels = queue_page(user, now, filters, 5)
            assert panels.barriers == queue_barriers(user, now), user.email
            assert panels.pending_comments == pending_comments(user), user.email
            expected_cases = [_case(row) for row in region_queue(user, now)]
            assert [_case(row) for row in panels.tariff_cases] == expected_cases, user.email
            seen |= {
                name
                for name in ("barriers", "pending_comments", "tariff_cases")
                if getattr(panels, name)
            }
            if user.role == "agency":
                expected = duplicate_counts(
                    [
                        (r.id, r.basic_udi_di, r.udi_di, r.emdn_code, r.manufacturer_id)
                        for r in db.session.scalars(
                            select(DeviceRequest).where(
                                DeviceRequest.id.in_([row.request_id for row in page.items])
                            )
                        )
                    ]
                )
                assert {
                    row.request_id: row.duplicates for row in page.items if row.duplicates
                } == expected
            if user.role == "irccs":
                _same_as_the_records_page(user, filters, page)
    assert seen == {"barriers", "pending_comments", "tariff_cases"}


def _same_as_the_records_page(user, filters, page) -> None:
    """The IRCCS's page: its records' own page (ORM objects, as the queue read it before)."""
    query = (
        select(Adoption)
        .join(Adoption.request)
        .where(Adoption.irccs_id == user.organisation_id, Adoption.state.in_(OPEN_ADOPTION_STATES))
        .options(contains_eager(Adoption.request).joinedload(DeviceRequest.manufacturer))
        .order_by(Adoption.state_changed_at, Adoption.id)
    )
    if filters.text:
        query = query.where(
            DeviceRequest.trade_name.ilike(f"%{filters.text}%")
            | DeviceRequest.model.ilike(f"%{filters.text}%")
            | DeviceRequest.receipt_number.ilike(f"%{filters.text}%")
            | DeviceRequest.emdn_code.ilike(f"%{filters.text}%")
        )
    expected = paginate(query, filters.page, 5, scalars=True)
    assert (page.page, page.total, page.total_exact) == (
        expected.page,
        expected.total,
        expected.total_exact,
    )
    waits = tariff_waits(expected.items)
    assert [
        (
            row.link_id,
            row.request_id,
            row.title,
            row.receipt_number,
            row.manufacturer,
            row.state,
            row.entered_at,
            row.waiting_for_tariff_since,
        )
        for row in page.items
    ] == [
        (
            a.id,
            a.request.id,
            a.request.title,
            a.request.receipt_number,
            a.request.manufacturer.name if a.request.manufacturer else None,
            a.state,
            a.state_changed_at,
            waits[a.id].requested_at if a.id in waits else None,
        )
        for a in expected.items
    ]


def test_each_part_of_a_union_reads_its_own_rows_in_its_own_order(make):
    for n in range(5):
        make.request(trade_name=f"Device {n}", model=None if n % 2 else f"M{n}")
    db.session.commit()
    newest = select(DeviceRequest.id, DeviceRequest.trade_name).order_by(DeviceRequest.id.desc())
    models = (
        select(DeviceRequest.model, DeviceRequest.created_at)
        .where(DeviceRequest.model.is_not(None))
        .order_by(DeviceRequest.model)
        .limit(2)
    )
    found = read_parts(
        ("test", "newest", "models"),
        lambda: [
            Part("newest", newest, (DeviceRequest.id.desc(),)),
            Part("models", models, (DeviceRequest.model,)),
            Part("none", select(DeviceRequest.id).where(DeviceRequest.id < 0)),
        ],
        {},
    )
    assert found["newest"] == [tuple(row) for row in db.session.execute(newest)]
    assert found["models"] == [tuple(row) for row in db.session.execute(models)]
    assert found["models"][0][1].tzinfo is not None  # (read back as its column's type)
    assert found["none"] == []


def test_the_kept_barrier_rows_follow_the_data_and_the_language(runner, app, login):
    _seeded_users(runner)
    agency = db.session.scalar(select(User).where(User.email == "agenzia@demo.hta"))
    client = app.test_client()
    login(agency, "demo-agenzia-2026", test_client=client)
    barrier = db.session.scalar(
        select(AdoptionBarrier)
        .where(AdoptionBarrier.status == "escalated")
        .order_by(AdoptionBarrier.id)
        .limit(1)
    )
    assert barrier is not None
    marker = f'data-barrier="{barrier.id}"'
    app.extensions.pop(LAYOUT_FRAGMENTS, None)
    pages = {}
    for language in ("en", "it", "en"):
        with client.session_transaction() as session:
            session["lang"] = language
        page = client.get("/work/").get_data(as_text=True)
        assert marker in page
        assert pages.setdefault(language, page) == page  # (kept, and the same)
    assert "Overdue" in pages["en"] and "Overdue" not in pages["it"]
    barrier.due_date = barrier.due_date + timedelta(days=400)  # no longer overdue
    db.session.commit()
    moved = client.get("/work/").get_data(as_text=True)
    assert moved != pages["en"] and marker in moved
    barrier.status = "resolved"
    db.session.commit()
    assert marker not in client.get("/work/").get_data(as_text=True)


def test_the_kept_dates_are_the_formats_own_for_each_language_and_moment():
    from datetime import UTC, date, datetime, timezone

    from app.formatting import formats_for
    from app.workqueue.presenters import _date

    late = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # already the 29th in Rome
    moments = [late, late.astimezone(timezone(timedelta(hours=-5))), date(2026, 3, 28)]
    for language in ("en", "it"):
        formats = formats_for(language, "Europe/Rome")
        for moment in moments * 2:  # (afresh, then kept)
            assert _date(formats, moment) == formats.date(moment)
    assert _date(formats_for("en", "Europe/Rome"), late) != _date(
        formats_for("it", "Europe/Rome"), late
    )
