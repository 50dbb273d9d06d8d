"""The outbox: notifications are written in the transaction of their cause, to the parties
the permission rules let open the object, and nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.assessment import coi
from app.core import transition_hooks
from app.core.fire import fire
from app.domain import permissions
from app.domain.errors import InvalidTransition
from app.extensions import db
from app.models import Adoption, CoiDeclaration, DeviceRequest, Notification
from app.notifications.hooks import EVENTS, NOTIFYING_TRIGGERS
from app.public.consultation import CommentData, submit_comment
from app.requests.queries import outcome_of
from tests.notification_support import kinds_of, notification_hooks_only, notifications
from tests.workflow_support import STEP, T0, adoption_of, make_cast, walk_to

__all__ = ["notification_hooks_only"]

pytestmark = pytest.mark.usefixtures("notification_hooks_only")


@pytest.fixture
def cast(make):
    return make_cast(make)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_submitting_tells_the_agency_and_nobody_else(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "intake_review", cast)
    assert kinds_of(cast.agency) == ["queue_arrival"]
    (told,) = notifications()
    assert told.request_id == request.id and told.params["ref"] == request.receipt_number
    assert told.params["state"] == "intake_review"


def test_the_assigned_body_is_told_and_the_others_are_not(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "assessment", cast)
    assert "queue_arrival" in kinds_of(cast.assessor)
    assert kinds_of(cast.other_assessor) == []
    # The assessor accepted: the manufacturer hears its request moved on, the assessor who
    # acted is not told about their own action.
    assert kinds_of(cast.manufacturer)[-1] == "status_changed"
    assert kinds_of(cast.assessor) == ["queue_arrival"]


def test_a_rolled_back_transition_leaves_no_notification(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    db.session.commit()

    def fails_after_notifying(obj, spec, actor, now, data, entry):
        assert count() == 1  # written, in the same transaction
        raise RuntimeError("disk full")

    transition_hooks.after("request", "submit")(fails_after_notifying)
    with pytest.raises(RuntimeError):
        fire(request, "submit", cast.manufacturer, T0)
    db.session.rollback()
    assert count() == 0
    with pytest.raises(InvalidTransition):
        fire(request, "resubmit", cast.manufacturer, T0)
    assert count() == 0


def test_a_committed_transition_always_has_its_notifications(app, make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    fire(request, "submit", cast.manufacturer, T0)
    request_id = request.id
    db.session.commit()
    db.session.remove()
    assert db.session.scalar(select(func.count()).where(Notification.request_id == request_id))


def test_a_question_round_tells_the_manufacturer_and_the_answers_the_assessor(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "information_requested", cast)
    assert kinds_of(cast.manufacturer)[-1] == "question_asked"
    fire(request, "answer_information", cast.manufacturer, moment + STEP, answers="Here.")
    assert kinds_of(cast.assessor)[-1] == "question_answered"


def test_suspension_is_urgent_for_the_irccs_using_the_device_only(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast)
    using = adoption_of(request, cast.irccs_org)
    for trigger in ("start_evaluation", "approve_for_use", "start_use"):
        moment += STEP
        fire(using, trigger, cast.irccs, moment)
    fire(request, "suspend", cast.agency, moment + STEP, reason="Safety signal.")
    (to_irccs,) = notifications(user_id=cast.irccs.id, kind="suspended")
    assert to_irccs.urgent and to_irccs.adoption_id == using.id
    assert notifications(user_id=cast.other_irccs.id, kind="suspended") == []
    assert notifications(user_id=cast.manufacturer.id, kind="suspended")[0].urgent
    fire(request, "resume", cast.agency, moment + 2 * STEP, reason="Signal closed.")
    assert kinds_of(cast.irccs)[-1] == "resumed"


def test_publication_tells_the_manufacturer_and_each_irccs_about_its_record(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, "adoption_monitoring", cast)
    for irccs in (cast.irccs, cast.other_irccs):
        (told,) = notifications(user_id=irccs.id, kind="recommendation_published")
        adoption = db.session.get(Adoption, told.adoption_id)
        assert adoption.irccs_id == irccs.organisation_id
        assert told.params["outcome"] == "recommended"
    assert kinds_of(cast.manufacturer)[-1] == "recommendation_published"


def test_a_consultation_comment_tells_the_agency(make, cast):
    request = make.request(
        manufacturer=cast.manufacturer_org, complete=True, consent_to_publication=True
    )
    moment = walk_to(request, "consultation", cast)
    submit_comment(request.id, CommentData(text="Please consider children."), now=moment)
    assert kinds_of(cast.agency)[-1] == "consultation_comment"
    assert "consultation_comment" not in kinds_of(cast.manufacturer)


def test_a_conflict_override_tells_the_assessor_concerned(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "assignment", cast)
    fire(request, "assign_body", cast.agency, moment, regional_body=cast.body.id)
    declaration = coi.declare(
        cast.assessor, request, has_conflict=True, description="Consultant.", now=moment
    )
    coi.override(cast.agency, declaration, reason="No alternative body.", now=moment)
    assert kinds_of(cast.assessor)[-1] == "coi_override"


def _may_open(user, notification) -> bool:
    """The pages' rule for the object the notification links to."""
    if notification.adoption_id is not None:
        return permissions.can_view_adoption(
            user, db.session.get(Adoption, notification.adoption_id)
        )
    request = db.session.get(DeviceRequest, notification.request_id)
    declaration = db.session.scalars(
        select(CoiDeclaration).where(
            CoiDeclaration.request_id == request.id, CoiDeclaration.user_id == user.id
        )
    ).one_or_none()
    status = permissions.coi_status(declaration) if user.role == "assessor" else None
    cleared = (
        None if status in (None, permissions.COI_MISSING) else status == permissions.COI_CLEARED
    )
    return permissions.can_view_request(user, request, outcome_of(request), cleared)


def test_every_event_reaches_only_the_parties_of_its_object(make, cast):
    """Every kind a transition writes, on the main path and the side paths: each recipient
    may open what the notification links to when it is written (checked by a hook that runs
    right after the notification hook, in the same transaction), and the wrong parties
    (another manufacturer, body, the admin) are never told."""
    checked: dict[int, tuple[str, int]] = {}

    def check_recipients(obj, spec, actor, now, data, entry):
        for n in notifications():
            if n.id not in checked:
                assert _may_open(n.user, n), (spec.trigger, n.kind, n.user.role)
                checked[n.id] = (n.kind, n.user_id)

    transition_hooks.after("request", *NOTIFYING_TRIGGERS)(check_recipients)

    for state in ("incomplete", "information_requested"):
        walk_to(make.request(manufacturer=cast.manufacturer_org, complete=True), state, cast)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "information_requested", cast)
    fire(request, "answer_information", cast.manufacturer, moment + STEP, answers="A.")
    fire(request, "send_draft_report", cast.assessor, moment + 2 * STEP)
    fire(request, "return_factual_comments", cast.manufacturer, moment + 3 * STEP, comments="C.")
    declined = make.request(manufacturer=cast.manufacturer_org, complete=True)
    later = walk_to(declined, "assignment", cast)
    fire(declined, "assign_body", cast.agency, later, regional_body=cast.body.id)
    fire(declined, "decline_assignment", cast.assessor, later + STEP, reason="No capacity.")
    withdrawn = make.request(manufacturer=cast.manufacturer_org, complete=True)
    later = walk_to(withdrawn, "assessment", cast)
    fire(withdrawn, "withdraw", cast.manufacturer, later + STEP, reason="Changed plans.")
    published = make.request(manufacturer=cast.manufacturer_org, complete=True)
    later = walk_to(published, "adoption_monitoring", cast)
    adoption = adoption_of(published, cast.irccs_org)
    for trigger in ("start_evaluation", "approve_for_use", "start_procurement"):
        later += STEP
        data = {"procurement_route": "direct"} if trigger == "start_procurement" else {}
        fire(adoption, trigger, cast.irccs, later, **data)
    fire(published, "suspend", cast.agency, later + STEP, reason="Signal.")
    fire(published, "resume", cast.agency, later + 2 * STEP, reason="Closed.")
    fire(published, "review_due", None, later + timedelta(days=2000))

    kinds = {kind for kind, _ in checked.values()}
    expected = {kind for events in EVENTS.values() for kind, _ in events} | {
        "queue_arrival",
        "status_changed",
    }
    assert expected <= kinds
    assert len(checked) == len(notifications())
    wrong = {cast.other_manufacturer.id, cast.admin.id, cast.other_assessor.id}
    assert not [kind for kind, user_id in checked.values() if user_id in wrong]
