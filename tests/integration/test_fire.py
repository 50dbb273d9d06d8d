"""`fire`: the transition table (every transition, every actor), side data, deadlines of new
stages, conflicts, and no partial write when something fails half-way."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from app.adoption.queries import adoptions_of_request, get_adoption_for, visible_adoptions
from app.core import fire as workflow_service
from app.core import transition_hooks
from app.core.audit import entries_for_request, verify_chain
from app.core.fire import available_transitions, can_see, fire, stage_timeline
from app.domain.deadlines import end_of_day
from app.domain.errors import (
    Conflict,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.extensions import db
from app.models import (
    Adoption,
    DeadlineSetting,
    DesignatedCentre,
    DeviceRequest,
    Recommendation,
    StageRecord,
)
from app.requests.queries import visible_requests
from app.workflow.definitions import ADOPTION_WORKFLOW, REQUEST_WORKFLOW
from tests.workflow_support import (  # noqa: F401 (no_area_hooks is a fixture)
    CONSULTED,
    ROLE_ACTOR,
    STEP,
    WRONG_PARTIES,
    actor_named,
    adoption_of,
    arrange,
    audit_count,
    make_cast,
    no_area_hooks,
    observe,
    valid_data,
    walk_to,
)

pytestmark = pytest.mark.usefixtures("no_area_hooks")

# --- The transition table -------------------------------------------------------------------


def _cases():
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW):
        for spec in workflow.transitions:
            for source in spec.sources:
                for role in sorted(spec.roles):
                    yield pytest.param(
                        spec,
                        source,
                        role,
                        id=f"{workflow.name}:{spec.trigger}:{source}->{spec.dest}:{role}",
                    )


@pytest.mark.parametrize(("spec", "source", "role"), list(_cases()))
def test_transition_table(make, spec, source, role):
    """The right party of an allowed role succeeds; every other actor is refused and nothing
    changes; wrong parties do not even learn that the object exists."""
    cast = make_cast(make)
    obj, moment = arrange(spec, source, cast, make)
    reason, data = valid_data(spec, cast)
    allowed = {ROLE_ACTOR[r] for r in spec.roles}
    moment += STEP
    if "irccs" in spec.roles and not isinstance(obj, Adoption):
        # Any IRCCS is a party to a published request (it may ask to be designated).
        allowed.add("other_irccs")
    for name, actor in cast.everyone().items():
        if name in allowed:
            continue
        before = observe(obj)
        with pytest.raises((NotFound, PermissionDenied)) as refused:
            fire(obj, spec.trigger, actor, moment, reason=reason, **data)
        if name in WRONG_PARTIES and (name != "other_irccs" or isinstance(obj, Adoption)):
            # (Every IRCCS may read a published request: there it is PermissionDenied.)
            assert isinstance(refused.value, NotFound), name
        assert observe(obj) == before, name

    version, entries = obj.version, audit_count()
    entry = fire(
        obj, spec.trigger, actor_named(cast, ROLE_ACTOR[role]), moment, reason=reason, **data
    )
    assert obj.state == spec.dest
    assert obj.version == version + 1
    assert audit_count() == entries + 1
    assert (entry.action, entry.from_state, entry.to_state) == (spec.trigger, source, spec.dest)
    assert entry.actor_role == role
    assert verify_chain().ok


WRONG_STATE_CANDIDATES = (
    "appraisal",
    "awaiting_prioritisation",
    "assessment",
    "suspended:appraisal",
)
WRONG_ADOPTION_STATES = ("declined", "not_started", "in_use")


def _unique_triggers():
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW):
        seen = set()
        for spec in workflow.transitions:
            sources = {s for t in workflow.by_trigger(spec.trigger) for s in t.sources}
            if sources == set(workflow.states):
                continue  # fired from every state (the adoption barriers): no wrong state
            if spec.trigger not in seen:
                seen.add(spec.trigger)
                yield pytest.param(spec, id=f"{workflow.name}:{spec.trigger}")


@pytest.mark.parametrize("spec", list(_unique_triggers()))
def test_a_trigger_from_a_wrong_state_is_refused(make, spec):
    cast = make_cast(make)
    is_adoption = spec in ADOPTION_WORKFLOW.transitions
    candidates = WRONG_ADOPTION_STATES if is_adoption else WRONG_STATE_CANDIDATES
    all_sources = {
        s
        for t in (ADOPTION_WORKFLOW if is_adoption else REQUEST_WORKFLOW).transitions
        if t.trigger == spec.trigger
        for s in t.sources
    }
    wrong = next(state for state in candidates if state.partition(":")[0] not in all_sources)
    obj, moment = _object_in(wrong, is_adoption, cast, make)
    reason, data = valid_data(spec, cast)
    before = observe(obj)
    # An IRCCS does not even see a request before its recommendation is published.
    refusal = NotFound if not is_adoption and spec.roles == {"irccs"} else InvalidTransition
    with pytest.raises(refusal):
        fire(
            obj,
            spec.trigger,
            actor_named(cast, ROLE_ACTOR[min(spec.roles)]),
            moment + STEP,
            reason=reason,
            **data,
        )
    assert observe(obj) == before


def _object_in(state, is_adoption, cast, make):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    if not is_adoption:
        return request, walk_to(request, state, cast)
    moment = walk_to(request, "adoption_monitoring", cast)
    adoption = adoption_of(request, cast.irccs_org)
    if state == "declined":
        for trigger, data in (
            ("start_evaluation", {}),
            ("decline", {"decline_reason": "no_budget"}),
        ):
            moment += STEP
            fire(adoption, trigger, cast.irccs, moment, reason="No budget.", **data)
    if state == "in_use":
        for trigger in ("start_evaluation", "approve_for_use", "start_use"):
            moment += STEP
            fire(adoption, trigger, cast.irccs, moment)
    return adoption, moment


def test_wrong_parties_get_not_found_on_every_action(make):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "adoption_monitoring", cast) + STEP
    adoption = adoption_of(request, cast.irccs_org)
    for trigger in REQUEST_WORKFLOW.triggers:
        for actor in (cast.other_manufacturer, cast.other_assessor):
            with pytest.raises(NotFound):
                fire(request, trigger, actor, moment, reason="x")
    for trigger in ADOPTION_WORKFLOW.triggers:
        for actor in (cast.other_irccs, cast.manufacturer, cast.other_assessor, cast.admin):
            with pytest.raises(NotFound):
                fire(adoption, trigger, actor, moment, reason="x")
        # The regional body of the IRCCS's region acts for the region on the barriers it owns
        # (resolve_barrier, checked by its guard); for anything else the record is not found to
        # its users, as its page is (they do not read it).
        if trigger == "resolve_barrier":
            # Reached for this action alone (its guard then limits them to the region's
            # barriers: tests/functional/test_adoption_barriers.py); the record itself is not.
            assert can_see(cast.assessor, adoption, ADOPTION_WORKFLOW.by_trigger(trigger))
            assert not can_see(cast.assessor, adoption)
        else:
            with pytest.raises(NotFound):
                fire(adoption, trigger, cast.assessor, moment, reason="x")


# --- Side data of the request workflow ---------------------------------------------------------


@pytest.fixture
def request_(make, cast):
    return make.request(manufacturer=cast.manufacturer_org, complete=True)


T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_submit_gives_a_receipt_number_and_starts_the_clock(request_, cast):
    fire(request_, "submit", cast.manufacturer, T)
    assert request_.state == "intake_review"
    assert request_.receipt_number == f"HTA-2026-{request_.id:06d}"
    assert request_.submitted_at == T
    [stage] = stage_timeline(request_, T)
    assert stage.state == "intake_review"
    assert stage.due_at == end_of_day(date(2026, 3, 17))


def test_resubmission_keeps_the_receipt_and_the_submission_time(request_, cast):
    fire(request_, "submit", cast.manufacturer, T)
    receipt = request_.receipt_number
    fire(request_, "mark_incomplete", cast.agency, T + STEP, reason="x", missing_items="IFU")
    fire(request_, "resubmit", cast.manufacturer, T + 5 * STEP)
    assert (request_.receipt_number, request_.submitted_at) == (receipt, T)


def test_an_incomplete_dossier_cannot_be_submitted(make, cast):
    request = make.request(manufacturer=cast.manufacturer_org, complete=False)
    before = observe(request)
    with pytest.raises(GuardFailed) as failed:
        fire(request, "submit", cast.manufacturer, T)
    missing = {item.field for item in failed.value.details["missing"]}
    assert {"intended_purpose", "risk_class"} <= missing
    assert observe(request) == before
    assert request.receipt_number is None


def test_the_administrators_deadline_overrides_the_default(request_, cast):
    db.session.add(DeadlineSetting(state="intake_review", days=5, working_days=False))
    db.session.flush()
    fire(request_, "submit", cast.manufacturer, T)
    assert stage_timeline(request_, T)[0].due_at == end_of_day(date(2026, 3, 7))


def test_the_factual_accuracy_check_is_due_in_working_days(request_, cast):
    walk_to(request_, "assessment", cast)
    thursday = datetime(2026, 4, 23, 10, 0, tzinfo=UTC)  # then 25 April and 1 May
    fire(request_, "send_draft_report", cast.assessor, thursday)
    stage = stage_timeline(request_, thursday)[-1]
    assert stage.state == "factual_accuracy_check" and stage.clock_stopped
    assert stage.due_at == end_of_day(date(2026, 5, 8))


def test_assign_body_refuses_what_is_not_an_active_regional_body(make, request_, cast):
    moment = walk_to(request_, "assignment", cast) + STEP
    inactive = make.org("regional_body", active=False)
    for wrong in (inactive.id, cast.irccs_org.id, 999_999, "Lombardia"):
        with pytest.raises(ValidationFailed) as failed:
            fire(request_, "assign_body", cast.agency, moment, regional_body=wrong)
        assert failed.value.details["fields"] == {"regional_body": "invalid_choice"}
    assert request_.assigned_body_id is None


def test_an_assessor_cannot_act_before_its_body_is_assigned(request_, cast):
    moment = walk_to(request_, "assignment", cast) + STEP
    with pytest.raises(NotFound):
        fire(request_, "accept_assignment", cast.assessor, moment)


def test_declining_an_assignment_clears_the_body_and_its_sight(request_, cast):
    moment = walk_to(request_, "assignment", cast) + STEP
    fire(request_, "assign_body", cast.agency, moment, regional_body=cast.body.id)
    stages = len(stage_timeline(request_, moment))
    entry = fire(request_, "decline_assignment", cast.assessor, moment, reason="No capacity.")
    assert request_.state == "assignment" and request_.assigned_body_id is None
    assert entry.data == {"declined_body": cast.body.id}
    assert len(stage_timeline(request_, moment)) == stages  # internal: the clock runs on
    with pytest.raises(NotFound):
        fire(request_, "accept_assignment", cast.assessor, moment)
    assert available_transitions(cast.assessor, request_) == []
    # The agency picks another body, whose assessor can then accept.
    fire(
        request_,
        "assign_body",
        cast.agency,
        moment,
        regional_body=cast.other_assessor.organisation_id,
    )
    fire(request_, "accept_assignment", cast.other_assessor, moment)
    assert request_.state == "assessment"


def test_an_internal_transition_still_bumps_the_version(request_, cast):
    moment = walk_to(request_, "assignment", cast) + STEP
    version, stages = request_.version, len(stage_timeline(request_, moment))
    fire(request_, "assign_body", cast.agency, moment, regional_body=cast.body.id)
    assert request_.version == version + 1
    assert len(stage_timeline(request_, moment)) == stages
    assert request_.state == "assignment"


def test_returning_factual_comments_hands_the_clock_back_to_the_assessor(request_, cast):
    """The manufacturer's time ends with its comments: what follows, until the assessor
    finalises the report, is the assessor's (net) time, with a deadline of its own."""
    sent = walk_to(request_, "factual_accuracy_check", cast)
    version = request_.version
    fire(request_, "return_factual_comments", cast.manufacturer, sent + 3 * STEP, comments="p.3")
    assert request_.state == "factual_accuracy_check" and request_.version == version + 1
    fire(request_, "finalise_report", cast.assessor, sent + 8 * STEP)
    checking, finalising = stage_timeline(request_, sent + 9 * STEP)[-3:-1]
    assert (checking.state, finalising.state) == ("factual_accuracy_check",) * 2
    assert checking.clock_stopped and (checking.gross_days, checking.net_days) == (3, 0)
    assert not finalising.clock_stopped
    assert (finalising.gross_days, finalising.net_days) == (5, 5)
    assert finalising.due_at > checking.due_at  # a fresh deadline for the assessor


def test_a_suspension_after_the_comments_keeps_the_clock_with_the_assessor(request_, cast):
    sent = walk_to(request_, "factual_accuracy_check", cast)
    fire(request_, "return_factual_comments", cast.manufacturer, sent + STEP, comments="p.3")
    fire(request_, "suspend", cast.agency, sent + 2 * STEP, reason="Safety signal.")
    fire(request_, "resume", cast.agency, sent + 4 * STEP, reason="Cleared.")
    resumed = stage_timeline(request_, sent + 6 * STEP)[-1]
    assert resumed.state == "factual_accuracy_check" and not resumed.clock_stopped
    assert resumed.net_days == 2


def test_suspend_and_resume_keep_the_time_that_was_left(request_, cast):
    moment = walk_to(request_, "assessment", cast)
    assessment_due = stage_timeline(request_, moment)[-1].due_at
    fire(request_, "suspend", cast.agency, moment + 10 * STEP, reason="Safety signal.")
    assert request_.suspended_from == "assessment"
    fire(request_, "resume", cast.agency, moment + 40 * STEP, reason="Cleared.")
    assert request_.state == "assessment" and request_.suspended_from is None
    resumed = stage_timeline(request_, moment)[-1]
    assert resumed.due_at == assessment_due + 30 * STEP


def test_answering_information_continues_the_assessment_clock(request_, cast):
    moment = walk_to(request_, "assessment", cast)
    assessment_due = stage_timeline(request_, moment)[-1].due_at
    fire(request_, "request_information", cast.assessor, moment + STEP, questions="Data?")
    fire(request_, "answer_information", cast.manufacturer, moment + 21 * STEP, answers="Here.")
    assert stage_timeline(request_, moment)[-1].due_at == assessment_due + 20 * STEP


def test_a_positive_publication_opens_one_adoption_record_per_active_irccs(make, request_, cast):
    make.org("irccs", active=False)
    moment = walk_to(request_, "consultation", cast) + CONSULTED
    recommendation = db.session.scalar(select(Recommendation))
    assert recommendation.outcome == "recommended" and recommendation.published_at is None
    entry = fire(
        request_,
        "publish",
        cast.agency,
        moment,
        outcome="recommended",
        rationale="Clear benefit.",
        review_date="2028-06-30",
    )
    assert request_.state == "adoption_monitoring"
    adoptions = db.session.scalars(select(Adoption).where(Adoption.request_id == request_.id))
    irccs_ids = sorted(a.irccs_id for a in adoptions)
    assert irccs_ids == sorted([cast.irccs_org.id, cast.other_irccs.organisation_id])
    assert entry.data["adoption_records_created"] == 2
    db.session.refresh(recommendation)
    assert recommendation.outcome == "recommended"
    assert recommendation.published_at == moment
    assert recommendation.review_date == date(2028, 6, 30)
    assert stage_timeline(request_, moment)[-1].due_at == end_of_day(date(2028, 6, 30))
    assert db.session.scalar(select(func.count()).select_from(Recommendation)) == 1
    # The IRCCS now sees the request and its own record.
    assert request_ in db.session.scalars(visible_requests(cast.irccs)).all()


def test_a_restricted_recommendation_opens_records_only_at_its_designated_centres(
    make, request_, cast
):
    """Issue 13, item 1: only the designated IRCCS get adoption records (and so count in the
    adoption rates); the centres are named with the draft and may change before publication."""
    third = make.org("irccs", region="lazio")
    moment = walk_to(request_, "appraisal", cast) + STEP
    restricted = {
        "outcome": "recommended_restricted",
        "rationale": "Only in cardiac surgery centres.",
        "conditions": "Centres with a heart team.",
        "designation_criteria": "IRCCS with cardiac surgery on site.",
    }
    with pytest.raises(GuardFailed) as refused:
        fire(request_, "open_consultation", cast.agency, moment, **restricted)
    assert refused.value.details["guard"] == "designated_centres_named"
    assert refused.value.details["field"] == "designated_centres"
    fire(
        request_,
        "open_consultation",
        cast.agency,
        moment,
        designated_centres=[str(third.id), cast.irccs_org.id],
        **restricted,
    )
    entry = fire(
        request_,
        "publish",
        cast.agency,
        moment + CONSULTED,
        designated_centres=[cast.irccs_org.id],
        **restricted,
    )
    adoptions = db.session.scalars(select(Adoption).where(Adoption.request_id == request_.id))
    assert [a.irccs_id for a in adoptions] == [cast.irccs_org.id]
    assert entry.data["adoption_records_created"] == 1
    assert entry.data["designated_centres"] == [cast.irccs_org.id]
    centres = db.session.scalars(select(DesignatedCentre.irccs_id)).all()
    assert centres == [cast.irccs_org.id]
    recommendation = db.session.scalar(select(Recommendation))
    assert recommendation.designation_criteria == "IRCCS with cardiac surgery on site."


def test_designated_centres_must_be_active_irccs(make, request_, cast):
    moment = walk_to(request_, "appraisal", cast) + STEP
    with pytest.raises(ValidationFailed) as refused:
        fire(
            request_,
            "open_consultation",
            cast.agency,
            moment,
            outcome="recommended_restricted",
            rationale="r",
            conditions="c",
            designated_centres=[cast.body.id],
        )
    assert refused.value.details["fields"] == {"designated_centres": "invalid_choice"}


def test_a_negative_publication_opens_no_adoption_record(request_, cast):
    moment = walk_to(request_, "consultation", cast) + CONSULTED
    fire(request_, "publish", cast.agency, moment, outcome="insufficient_evidence", rationale="x")
    assert request_.state == "not_recommended"
    assert db.session.scalar(select(func.count()).select_from(Adoption)) == 0


def test_a_review_date_must_be_in_the_future(request_, cast):
    moment = walk_to(request_, "consultation", cast) + CONSULTED
    with pytest.raises(ValidationFailed) as failed:
        fire(
            request_,
            "publish",
            cast.agency,
            moment,
            outcome="recommended",
            rationale="x",
            review_date=moment.date(),
        )
    assert failed.value.details["fields"] == {"review_date": "not_in_future"}


def test_invalid_data_changes_nothing(request_, cast):
    moment = walk_to(request_, "intake_review", cast) + STEP
    before = observe(request_)
    with pytest.raises(ValidationFailed) as failed:
        fire(request_, "mark_incomplete", cast.agency, moment, reason=" ", missing_items="\n")
    assert failed.value.details["fields"] == {"reason": "required", "missing_items": "required"}
    assert observe(request_) == before


# --- Adoption records ----------------------------------------------------------------------------


@pytest.fixture
def adoption(request_, cast):
    moment = walk_to(request_, "adoption_monitoring", cast)
    return adoption_of(request_, cast.irccs_org), moment


def test_adoption_decisions_and_first_use_are_dated(adoption, cast):
    record, moment = adoption
    fire(record, "start_evaluation", cast.irccs, moment + STEP)
    assert record.state_changed_at == moment + STEP and record.decided_at is None
    fire(record, "approve_for_use", cast.irccs, moment + 2 * STEP)
    fire(record, "start_use", cast.irccs, moment + 9 * STEP)
    assert record.decided_at == moment + 2 * STEP
    assert record.first_use_at == moment + 9 * STEP
    entries = entries_for_request(record.request_id)
    assert [e.entity_type for e in entries[-3:]] == ["adoption"] * 3


def test_a_decline_records_its_reason_code(adoption, cast):
    record, moment = adoption
    fire(record, "start_evaluation", cast.irccs, moment + STEP)
    with pytest.raises(ValidationFailed):
        fire(record, "decline", cast.irccs, moment + STEP, reason="x", decline_reason="bored")
    fire(record, "decline", cast.irccs, moment + STEP, reason="x", decline_reason="no_budget")
    assert (record.state, record.decline_reason, record.decided_at) == (
        "declined",
        "no_budget",
        moment + STEP,
    )


def test_no_move_towards_use_while_the_device_is_suspended(request_, adoption, cast):
    record, moment = adoption
    fire(request_, "suspend", cast.agency, moment + STEP, reason="CE certificate suspended.")
    with pytest.raises(GuardFailed):
        fire(record, "start_evaluation", cast.irccs, moment + STEP)
    assert record.state == "not_started"


def test_adoption_records_are_visible_to_the_agency_and_their_own_irccs(adoption, cast):
    record, _ = adoption
    assert len(db.session.scalars(visible_adoptions(cast.agency)).unique().all()) == 2
    assert db.session.scalars(visible_adoptions(cast.irccs)).unique().all() == [record]
    assert db.session.scalars(visible_adoptions(cast.manufacturer)).unique().all() == []
    assert get_adoption_for(cast.irccs, record.id) is record
    for outsider in (cast.other_irccs, cast.manufacturer, cast.assessor, cast.admin):
        with pytest.raises(NotFound):
            get_adoption_for(outsider, record.id)
    with pytest.raises(NotFound):
        get_adoption_for(cast.agency, 999_999)
    assert len(adoptions_of_request(cast.agency, record.request_id)) == 2
    assert adoptions_of_request(cast.irccs, record.request_id) == [record]
    assert adoptions_of_request(cast.assessor, record.request_id) == []


# --- What the screens ask ----------------------------------------------------------------------


def test_available_transitions_follow_state_role_and_party(request_, cast):
    def triggers(actor):
        return {spec.trigger for spec in available_transitions(actor, request_)}

    assert triggers(cast.manufacturer) == {"submit", "withdraw"}
    assert triggers(cast.agency) == triggers(cast.other_manufacturer) == set()
    moment = walk_to(request_, "assignment", cast)
    fire(request_, "assign_body", cast.agency, moment + STEP, regional_body=cast.body.id)
    assert triggers(cast.assessor) == {"accept_assignment", "decline_assignment"}
    assert triggers(cast.other_assessor) == set()
    assert triggers(None) == set()
    fire(request_, "suspend", cast.agency, moment + STEP, reason="x")
    [resume] = [s for s in available_transitions(cast.agency, request_) if s.trigger == "resume"]
    assert resume.dest == "assignment"


def test_the_timeline_shows_gross_and_net_days(request_, cast):
    fire(request_, "submit", cast.manufacturer, T)
    fire(request_, "mark_incomplete", cast.agency, T + 4 * STEP, reason="x", missing_items="IFU")
    fire(request_, "resubmit", cast.manufacturer, T + 14 * STEP)
    fire(request_, "declare_inadmissible", cast.agency, T + 16 * STEP, reason="Not a device.")
    rows = stage_timeline(request_, T + 100 * STEP)
    assert [(r.state, r.gross_days, r.net_days, r.clock_stopped) for r in rows] == [
        ("intake_review", 4.0, 4.0, False),
        ("incomplete", 10.0, 0.0, True),
        ("intake_review", 2.0, 2.0, False),
        ("inadmissible", None, None, False),
    ]
    assert not any(r.late for r in rows)


# --- Conflicts and failures ----------------------------------------------------------------------


def test_a_stale_expected_version_is_a_conflict(request_, cast):
    fire(request_, "submit", cast.manufacturer, T)
    seen = request_.version
    fire(request_, "admit", cast.agency, T + STEP, expected_version=seen)
    before = observe(request_)
    with pytest.raises(Conflict, match="reload"):
        fire(request_, "suspend", cast.agency, T + STEP, reason="x", expected_version=seen)
    assert observe(request_) == before
    fire(request_, "start_prioritisation", cast.agency, T + STEP, expected_version=str(seen + 1))


def test_stale_data_at_write_time_is_a_conflict(request_, cast, monkeypatch):
    fire(request_, "submit", cast.manufacturer, T)
    monkeypatch.setattr(workflow_service, "lock", lambda obj, noun="": None)
    db.session.execute(
        text("UPDATE device_requests SET version = version + 1 WHERE id = :id"),
        {"id": request_.id},
    )
    entries = audit_count()
    with pytest.raises(Conflict):
        fire(request_, "admit", cast.agency, T + STEP)
    assert request_.state == "intake_review"
    assert audit_count() == entries


def test_a_change_made_elsewhere_is_read_again_under_the_lock(request_, cast):
    """The lock reads the version only; a newer version in the database means the object in
    memory is out of date, and the checks run on what the database holds."""
    fire(request_, "submit", cast.manufacturer, T)
    db.session.execute(
        text(
            "UPDATE device_requests SET state = 'awaiting_prioritisation', version = version + 1"
            " WHERE id = :id"
        ),
        {"id": request_.id},
    )
    assert request_.state == "intake_review"  # what this session loaded before
    with pytest.raises(InvalidTransition):
        fire(request_, "admit", cast.agency, T + STEP)
    assert request_.state == "awaiting_prioritisation"
    fire(request_, "start_prioritisation", cast.agency, T + STEP)
    assert request_.state == "prioritisation"


def _db_snapshot(request):
    stages = db.session.execute(
        select(StageRecord.state, StageRecord.left_at).where(StageRecord.request_id == request.id)
    ).all()
    row = db.session.execute(
        select(DeviceRequest.state, DeviceRequest.version).where(DeviceRequest.id == request.id)
    ).one()
    recommendation = db.session.execute(
        select(Recommendation.outcome, Recommendation.published_at)
    ).all()
    adoptions = db.session.scalar(select(func.count()).select_from(Adoption))
    return (tuple(row), sorted(stages, key=str), recommendation, adoptions, audit_count())


def _explode(error):
    def raising(*args, **kwargs):
        raise error

    return raising


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("disk full"),
        sqlalchemy.exc.OperationalError(
            "INSERT INTO audit_entries ...", {}, Exception("server closed the connection")
        ),
    ],
    ids=["error", "database-error"],
)
def test_a_failure_after_the_state_changed_leaves_everything_as_it_was(
    request_, cast, monkeypatch, error
):
    moment = walk_to(request_, "consultation", cast) + CONSULTED
    db.session.commit()
    before_db = _db_snapshot(request_)
    before = (request_.state, request_.version, request_.updated_at)
    monkeypatch.setattr(workflow_service, "record_audit", _explode(error))
    with pytest.raises(type(error)):
        fire(request_, "publish", cast.agency, moment, outcome="recommended", rationale="x")
    # In memory, without asking the database:
    assert (request_.state, request_.version, request_.updated_at) == before
    assert _db_snapshot(request_) == before_db
    db.session.commit()
    assert _db_snapshot(request_) == before_db
    monkeypatch.undo()
    fire(request_, "publish", cast.agency, moment, outcome="recommended", rationale="x")
    assert request_.state == "adoption_monitoring"
    assert verify_chain().ok


@pytest.mark.own_app  # breaks its connection on purpose
def test_a_dropped_connection_mid_fire_writes_nothing(app, request_, cast, monkeypatch):
    moment = walk_to(request_, "consultation", cast) + CONSULTED
    db.session.commit()
    before_db = _db_snapshot(request_)
    before = (request_.state, request_.version)
    original_apply = workflow_service._StageMove.apply

    def drop_then_move(self, now):
        # By now the request and its recommendation were already written (publish flushes).
        _kill_connection()
        original_apply(self, now)

    monkeypatch.setattr(workflow_service._StageMove, "apply", drop_then_move)
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        fire(request_, "publish", cast.agency, moment, outcome="recommended", rationale="x")
    assert (request_.state, request_.version) == before
    request_id = request_.id
    db.session.rollback()
    db.session.close()
    assert _db_snapshot(db.session.get(DeviceRequest, request_id)) == before_db


def _kill_connection() -> None:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as killer:
            killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            killer.commit()
    else:
        connection.connection.dbapi_connection.close()


# --- Transition hooks (the other areas' extension points) ----------------------------------------


def test_fire_runs_the_hooks_before_and_after_the_move(request_, cast):
    calls = []

    @transition_hooks.before("request", "submit")
    def before(obj, spec, actor, now, data):
        calls.append(("before", obj.state, actor))

    @transition_hooks.after("request", "submit")
    def after(obj, spec, actor, now, data, entry):
        calls.append(("after", obj.state, entry.action))

    fire(request_, "submit", cast.manufacturer, T)
    assert calls == [("before", "draft", cast.manufacturer), ("after", "intake_review", "submit")]


def test_a_refusing_before_hook_changes_nothing(request_, cast):
    @transition_hooks.before("request", "submit")
    def refuse(obj, spec, actor, now, data):
        raise GuardFailed("mandatory documents are missing")

    before = observe(request_)
    with pytest.raises(GuardFailed):
        fire(request_, "submit", cast.manufacturer, T)
    assert observe(request_) == before


def test_a_failing_after_hook_rolls_the_whole_transition_back(request_, cast):
    @transition_hooks.after("request", "submit")
    def explode(obj, spec, actor, now, data, entry):
        raise RuntimeError("could not open the question round")

    before = observe(request_)
    with pytest.raises(RuntimeError):
        fire(request_, "submit", cast.manufacturer, T)
    assert observe(request_) == before
    assert request_.receipt_number is None
