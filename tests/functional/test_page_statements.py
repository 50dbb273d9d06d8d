"""Pages that grow with a request's history cost the same SQL statements for a short or a
long history: the request page (documents, timeline, audit trail written by many people)
and the adoption record page, seen by each party."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.assessment.coi import declare
from app.core.fire import fire
from app.extensions import db
from app.models import Organisation
from tests.assessment_support import statements_for
from tests.document_support import upload
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    STEP,
    T0,
    adoption_of,
    make_cast,
    no_area_hooks,
    walk_to,
)

pytestmark = pytest.mark.usefixtures("no_area_hooks")

DOC_TYPES = ("study", "other", "price_list")


def _request_in_assessment(make, cast, history: int) -> int:
    """A request in assessment with `history` documents by as many colleagues, and as many
    suspensions by as many agency users (each a stage visit and two audit entries)."""
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    for n in range(history):
        colleague = make.user("manufacturer", organisation=cast.manufacturer_org)
        upload(colleague, request, DOC_TYPES[n % len(DOC_TYPES)], title=f"Paper {n}", now=T0)
    moment = walk_to(request, "assessment", cast)
    for n in range(history):
        agency_user = make.user("agency")
        moment += STEP
        fire(request, "suspend", agency_user, moment, reason=f"Check {n}.")
        moment += STEP
        fire(request, "resume", agency_user, moment, reason="Checked.")
    declare(cast.assessor, request, has_conflict=False, description="", now=moment)
    db.session.commit()
    return request.id


@pytest.mark.parametrize("who", ["agency", "manufacturer", "assessor"])
def test_the_request_page_costs_the_same_for_a_short_or_long_history(make, as_user, who):
    cast = make_cast(make)
    short = _request_in_assessment(make, cast, 1)
    long = _request_in_assessment(make, cast, 7)
    client = as_user(getattr(cast, who))
    assert statements_for(client, f"/requests/{long}") == statements_for(
        client, f"/requests/{short}"
    )


PROCUREMENT_DATA = {
    "start_procurement": {"procurement_route": "central_purchasing_body"},
    "record_award": {"tender_cig": "9A1B2C3D4E", "awarded_price": "1200.00", "supplier": "Acme"},
}


def _adoption(make, cast, steps: tuple[str, ...]) -> int:
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast)
    adoption = adoption_of(request, cast.irccs_org)
    for trigger in steps:
        moment += timedelta(days=3)
        data = PROCUREMENT_DATA.get(trigger, {})
        fire(adoption, trigger, make.user("irccs", organisation=cast.irccs_org), moment, **data)
    db.session.commit()
    return adoption.id


@pytest.mark.parametrize("who", ["irccs", "agency"])
def test_the_adoption_page_costs_the_same_for_a_short_or_long_history(make, as_user, who):
    cast = make_cast(make)
    short = _adoption(make, cast, ("start_evaluation",))
    long = _adoption(
        make, cast, ("start_evaluation", "approve_for_use", "start_procurement", "record_award")
    )
    client = as_user(getattr(cast, who))
    assert statements_for(client, f"/adoptions/{long}") == statements_for(
        client, f"/adoptions/{short}"
    )


@pytest.mark.parametrize("who", ["agency", "manufacturer"])
def test_the_home_page_costs_the_same_for_2_or_12_requests(make, as_user, who):
    cast = make_cast(make)
    client = as_user(getattr(cast, who))

    own_maker_id = cast.manufacturer_org.id

    def add(count):
        for _ in range(count):
            # Each request has its own manufacturer for the agency (lazy loads would show).
            if who == "agency":
                maker = make.org("manufacturer")
            else:
                maker = db.session.get(Organisation, own_maker_id)
            make.request(manufacturer=maker, state="intake_review", submitted_at=T0)
        db.session.commit()

    add(2)
    few = statements_for(client, "/")
    add(10)
    assert statements_for(client, "/") == few


# --- Adoption barriers: the record page and the work queues ------------------------------------


def _add_barriers(adoption_id: int, count: int, owner: str, status: str = "open") -> None:
    """Barrier rows as the workflow writes them (the area's hooks are off in this module);
    each on a request and IRCCS of its own would show a lazy load in the queue."""
    from datetime import date

    from app.models import AdoptionBarrier

    for n in range(count):
        db.session.add(
            AdoptionBarrier(
                adoption_id=adoption_id,
                kind="no_budget",
                description=f"Barrier {n}",
                owner=owner,
                due_date=date(2020, 1, 1) if n % 2 else date(2099, 1, 1),
                status=status,
                recorded_at=T0,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("who", ["irccs", "agency"])
def test_the_adoption_page_costs_the_same_with_1_or_7_barriers(make, as_user, who):
    cast = make_cast(make)
    adoption_id = _adoption(make, cast, ("start_evaluation",))
    client = as_user(getattr(cast, who))
    _add_barriers(adoption_id, 1, "irccs")
    few = statements_for(client, f"/adoptions/{adoption_id}")
    _add_barriers(adoption_id, 3, "region")
    _add_barriers(adoption_id, 3, "agency", status="escalated")
    assert statements_for(client, f"/adoptions/{adoption_id}") == few


@pytest.mark.parametrize(("who", "owner"), [("irccs", "irccs"), ("agency", "agency")])
def test_the_work_queue_costs_the_same_with_1_or_6_barriers_across_records(
    make, as_user, who, owner
):
    cast = make_cast(make)
    first, *others = [_adoption(make, cast, ()) for _ in range(6)]
    client = as_user(getattr(cast, who))
    _add_barriers(first, 1, owner)
    few = statements_for(client, "/work/")
    for adoption_id in others:
        _add_barriers(adoption_id, 1, owner)
    assert statements_for(client, "/work/") == few


def test_the_region_s_queue_costs_the_same_with_1_or_6_barriers(make, as_user):
    cast = make_cast(make)
    first, *others = [_adoption(make, cast, ()) for _ in range(6)]
    client = as_user(cast.assessor)  # Lombardy's regional body: the IRCCS's region
    _add_barriers(first, 1, "region")
    few = statements_for(client, "/work/")
    for adoption_id in others:
        _add_barriers(adoption_id, 1, "region")
    assert statements_for(client, "/work/") == few


def _recommended_devices(make, devices: int, irccs_each: int) -> int:
    """Published recommendations in the public register, each adopted by `irccs_each` IRCCS
    (a region each, every other one with a first patient and a procurement); returns the
    first request's id."""
    from tests.functional.test_public_adoption import _adopt, _publish
    from tests.functional.test_public_register import MAIN_PATH, public_request

    first = None
    for n in range(devices):
        request = public_request(make, "adoption_monitoring", path=MAIN_PATH, trade_name=f"D{n}")
        published = _publish(request)
        for k in range(irccs_each):
            days = k + 1 if k % 2 == 0 else None
            region = ("lombardia", "lazio", "toscana", "veneto", "piemonte")[k % 5]
            _adopt(make, request, published, region, days, procurement_days=1 if days else None)
        first = first or request.id
    db.session.commit()
    return first


@pytest.mark.parametrize("url", ["/register/adoption", "/register/adoption.csv", "detail"])
def test_the_public_adoption_figures_cost_the_same_for_few_or_many_devices(make, client, url):
    first = _recommended_devices(make, 1, 3)
    target = f"/register/{first}" if url == "detail" else url
    few = statements_for(client, target)
    _recommended_devices(make, 6, 5)
    assert statements_for(client, target) == few
