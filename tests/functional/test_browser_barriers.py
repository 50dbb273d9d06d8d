"""An adoption barrier in a real browser: the IRCCS that declined while awaiting a regional
tariff records the barrier its decline points to (kind and owner already chosen) and sees it on
its record; the region's HTA body finds it in its work queue, past its due date, and resolves
it from the barrier's page; the IRCCS then reads it resolved, with the note.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Adoption
from tests.browser_support import BROWSER, CLOCK_START, Person, act, seed, submit, text_of

pytestmark = BROWSER


@pytest.fixture(scope="module")
def cast(live_app):
    def build(make):
        roma = make.org("irccs", name="IRCCS Roma", region="lazio")
        body = make.org("regional_body", name="HTA Lazio", region="lazio")
        request = make.request(trade_name="HeartPatch")
        adoption = Adoption(
            request_id=request.id,
            irccs_id=roma.id,
            state="declined",
            decline_reason="awaiting_regional_tariff",
            created_at=CLOCK_START - timedelta(days=30),
            state_changed_at=CLOCK_START - timedelta(days=3),
        )
        db.session.add(adoption)
        db.session.flush()
        return {
            "irccs": Person.of(make.user("irccs", roma, full_name="Irene Costa")),
            "region": Person.of(make.user("assessor", body, full_name="Rita Neri")),
            "adoption": adoption.id,
        }

    return seed(live_app, build)


def test_the_irccs_records_a_barrier_and_the_region_resolves_it(people, cast, clock):
    irccs = people.page_for(cast["irccs"])
    irccs.goto(f"/adoptions/{cast['adoption']}")
    form = irccs.locator('[data-trigger="record_barrier"]')
    # The decline reason "awaiting a regional tariff" chose the barrier and its owner.
    assert form.locator('[name="record_barrier-barrier_kind"]').input_value() == "awaiting_tariff"
    assert form.locator('[name="record_barrier-barrier_owner"]').input_value() == "region"
    due = (CLOCK_START + timedelta(days=20)).date().isoformat()
    act(
        irccs,
        "record_barrier",
        prefix="adoption-action",
        barrier_description="No regional tariff for the procedure yet.",
        barrier_due_date=due,
    )
    barrier = irccs.locator("section.barriers li.barrier")
    assert "No regional tariff for the procedure yet." in text_of(barrier)
    assert text_of(barrier.locator(".barrier-owner")) == "The region"

    clock.advance(days=25)  # past its due date
    region = people.page_for(cast["region"])
    region.goto("/work/")
    row = region.locator("#queue-barriers tr[data-barrier]")
    assert "Overdue" in text_of(row) and "IRCCS Roma" in text_of(row)
    submit(region, row.get_by_role("link"))
    region.locator('details[data-trigger="resolve_barrier"] summary').click()
    region.fill('[name="resolve_barrier-resolution_note"]', "Regional decree: tariff 35.A.")
    submit(region, region.locator('details[data-trigger="resolve_barrier"] button[type=submit]'))
    assert text_of(region.locator(".barrier-status")) == "Resolved"

    irccs.goto(f"/adoptions/{cast['adoption']}")
    assert "Regional decree: tariff 35.A." in text_of(irccs.locator(".barrier-resolution"))
