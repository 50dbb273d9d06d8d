"""Guard parity, generated from the workflow table: for every guard every transition declares,
with that guard failing (the others let pass), every role gets the same verdict from `fire`,
from the web form and from the API: refused with the same HTTP status (422 for the guard,
403/404 for a role or party that may not act), with the guard's message; the available-actions
lists (the web panel's and the API's) show the action blocked with the same message.

Each case builds its object once and reuses it for every role and path: a refusal changes
nothing. The only exception is conflict-of-interest clearance: an assessor who is not cleared
cannot open the request at all on the web (sent to the declaration) or through the API (403
"coi-declaration-required"), so those refuse before the action; `fire` and the lists refuse
with the guard.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.core import guards
from app.core.fire import action_availability, fire
from app.domain.errors import DomainError, GuardFailed
from app.extensions import db
from app.models import (
    Adoption,
    AdoptionBarrier,
    AuditEntry,
    DesignatedCentre,
    InformationRound,
    Question,
    Recommendation,
    Reimbursement,
    StageRecord,
)
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW
from app.workflow.states import BARRIER_KINDS
from tests.api_support import NOW, api_for, clear_coi
from tests.assessment_support import make_cast, request_in

ROLES = ("manufacturer", "other_manufacturer", "agency", "assessor", "irccs", "admin")
FUTURE = date(2031, 6, 30)
# Pages of their own for some actions (the panel links there): the web form posts there.
APPRAISAL_TRIGGERS = ("open_consultation", "publish")
# Actions on one barrier: the web form posts from the barrier's own page, the one the region's
# users have (they do not read the record).
BARRIER_TRIGGERS = ("resolve_barrier", "escalate_barrier")


def _cases():
    seen = {}
    for workflow in (REQUEST_WORKFLOW, ADOPTION_WORKFLOW):
        for spec in workflow.transitions:
            for name in spec.guards:
                seen.setdefault((workflow.name, spec.trigger, name), spec)
    return [
        pytest.param(spec, name, id=f"{spec.trigger}-{name}") for (_, _, name), spec in seen.items()
    ]


CASES = _cases()

# Data guards: the data that makes each fail.
FAILING_DATA = {
    "restriction_conditions": {"outcome": "recommended_restricted", "conditions": ""},
    "evidence_generation_plan": {
        "outcome": "recommended_with_evidence_generation",
        "evidence_requirements": "",
    },
    # Before the recommendation was published (NOW): a backdating too far.
    "adoption_dates_plausible": {
        "decision_date": (NOW.date() - timedelta(days=30)).isoformat(),
        "first_use_date": (NOW.date() - timedelta(days=30)).isoformat(),
        "call_date": (NOW.date() - timedelta(days=30)).isoformat(),
        "award_date": (NOW.date() - timedelta(days=30)).isoformat(),
    },
    "designated_centres_named": {
        "outcome": "recommended_restricted",
        "conditions": "Only in heart centres.",
        "designated_centres": [],
    },
    # The object makes these fail: the IRCCS named (the cast's) is already designated, or
    # has not asked to be.
    "centre_not_designated": {},
    "designation_pending": {},
    # The object makes these fail: the barrier named (the record's one) is already resolved.
    "barrier_resolvable": {},
    "barrier_escalatable": {},
}


def test_every_declared_guard_is_registered_and_has_a_failing_case(app):
    """The app factory loaded every module that registers guards."""
    declared = guards.declared_names([REQUEST_WORKFLOW, ADOPTION_WORKFLOW])
    assert declared <= guards.registered_names()
    covered = {param.values[1] for param in CASES}
    assert covered == declared
    assert set(FAILING_DATA) == {n for n in declared if guards.guard(n).kind == guards.DATA}


def _value(field):
    if field.kind == "lines":
        return ["One item."]
    if field.kind == "choice":
        return field.choices[0]
    if field.kind == "date":
        return FUTURE.isoformat()
    if field.kind == "cig":
        return "9A1B2C3D4E"
    if field.kind == "amount":
        return "1000.00"
    return "Written for the test."


def _data(spec, cast, guard_name, obj) -> dict:
    data = {f.name: _value(f) for f in spec.fields if f.required}
    if any(f.kind == "barrier" for f in spec.fields):
        data["barrier"] = _barrier_of(obj).id
    if any(f.kind == "regional_body" for f in spec.fields):
        data["regional_body"] = cast.body.id
    if any(f.kind == "irccs" for f in spec.fields):
        data["irccs"] = cast.irccs_org.id
    if any(f.name == "outcome" for f in spec.fields):
        data |= {"outcome": "recommended", "rationale": "Clear benefit."}
    names = {f.name for f in spec.fields}
    return data | {k: v for k, v in FAILING_DATA.get(guard_name, {}).items() if k in names}


def only_this_guard(monkeypatch, guard_name: str) -> None:
    """The other guards pass: each case sees one guard fail."""
    registry = {
        name: guards.Guard(name, guard.kind, lambda *_args: None)
        for name, guard in guards._registry.items()
    }
    registry[guard_name] = guards.guard(guard_name)
    monkeypatch.setattr(guards, "_registry", registry)


def _failing_object(make, cast, spec, guard_name):
    """An object in the transition's source state on which `guard_name` fails."""
    state = spec.sources[0]
    if spec in ADOPTION_WORKFLOW.transitions:
        request = request_in(make, cast, "suspended", suspended_from="adoption_monitoring")
        db.session.add(
            Recommendation(
                request_id=request.id, outcome="recommended", rationale="r", published_at=NOW
            )
        )
        # In its state since now (the default): `fire` (at NOW, before it) and the pages (the
        # wall clock) both find it not stalled for "barrier_recordable".
        adoption = Adoption(request_id=request.id, irccs_id=cast.irccs_org.id, state=state)
        db.session.add(adoption)
        db.session.flush()
        if guard_name in ("barrier_resolvable", "barrier_escalatable"):
            # The region's, so that its users may open its page; resolved, so that neither
            # resolving nor escalating it can go through.
            db.session.add(
                AdoptionBarrier(
                    adoption_id=adoption.id,
                    kind=BARRIER_KINDS[0],
                    description="No budget this year.",
                    owner="region",
                    due_date=FUTURE,
                    status="resolved",
                    recorded_at=NOW,
                    resolved_at=NOW,
                )
            )
        if guard_name == "tariff_requestable":
            # The IRCCS's region has its case for this request already.
            db.session.add(_tariff_case(request, cast))
        db.session.commit()
        return adoption
    request = make.request(
        manufacturer=cast.manufacturer_org,
        complete=guard_name != "dossier_complete",
        state=state,
        submitted_at=NOW,
        assigned_body=None if guard_name == "body_assigned" else cast.body,
    )
    if guard_name == "questions_answered":
        kind = "intake" if state == "incomplete" else "assessment"
        information_round = InformationRound(request_id=request.id, kind=kind, number=1)
        information_round.questions = [Question(number=1, text="Any recalls?")]
        db.session.add(information_round)
    if state == "adoption_monitoring":
        # Published, so that every IRCCS may read it (and ask to be designated).
        db.session.add(
            Recommendation(
                request_id=request.id, outcome="recommended", rationale="r", published_at=NOW
            )
        )
    if guard_name == "centre_not_designated":
        db.session.add(DesignatedCentre(request_id=request.id, irccs_id=cast.irccs_org.id))
    if guard_name == "consultation_minimum":
        # The consultation opened today: `fire` (at NOW, before it) and the pages (at the
        # wall clock, the same day) both find it too short.
        opened = datetime.now(UTC)
        db.session.add(StageRecord(request_id=request.id, state=state, entered_at=opened))
    if guard_name != "assessor_cleared" and request.assigned_body_id is not None:
        clear_coi(cast.assessor, request)
    db.session.commit()
    return request


def _tariff_case(request, cast, state: str | None = None) -> Reimbursement:
    case = Reimbursement(
        request_id=request.id,
        region=cast.irccs_org.region,
        requested_by_id=cast.irccs_org.id,
        requested_at=NOW,
        state_changed_at=NOW,
    )
    if state is not None:
        case.state = state
    return case


def _barrier_of(adoption) -> AdoptionBarrier:
    return db.session.scalars(
        select(AdoptionBarrier).where(AdoptionBarrier.adoption_id == adoption.id)
    ).one()


def _fire_verdict(obj, spec, user, data) -> tuple[int, str, str | None]:
    """(status, message, guard code) of `fire`; 200 if it would go through (rolled back)."""
    try:
        fire(obj, spec.trigger, user, NOW, reason="Because.", **data)
    except GuardFailed as error:
        failure = error.details["failure"]
        with force_locale("en"):
            return error.http_status, str(failure.message), failure.code
    except DomainError as error:
        return error.http_status, "", None
    finally:
        db.session.rollback()
    return 200, "", None


def _web_post(client, obj, spec, data, *, on_the_record: bool = False):
    version = str(obj.version)
    if spec.trigger in APPRAISAL_TRIGGERS:
        form = {"expected_version": version, "rationale": "", "conditions": ""}
        form |= data
        return client.post(f"/requests/{obj.id}/appraisal", data=form)
    form = {f"{spec.trigger}-expected_version": version, f"{spec.trigger}-reason": "Because."}
    for name, value in data.items():
        form[f"{spec.trigger}-{name}"] = "\n".join(value) if isinstance(value, list) else str(value)
    if spec.trigger in BARRIER_TRIGGERS and not on_the_record:
        return client.post(
            f"/adoptions/barriers/{data['barrier']}/actions/{spec.trigger}", data=form
        )
    area = {Adoption: "adoptions", Reimbursement: "reimbursements"}.get(type(obj), "requests")
    return client.post(f"/{area}/{obj.id}/actions/{spec.trigger}", data=form)


def _api_post(api, obj, spec, data):
    area = {Adoption: "adoptions", Reimbursement: "reimbursements"}.get(type(obj), "requests")
    path = f"/{area}/{obj.id}/transitions/{spec.trigger}"
    return api.post(path, {"reason": "Because.", "data": data})


def _api_list(api, obj):
    area = "adoptions" if isinstance(obj, Adoption) else "requests"
    return api.get(f"/{area}/{obj.id}/transitions")


@pytest.mark.parametrize(("spec", "guard_name"), CASES)
def test_fire_the_web_form_and_the_api_agree_when_a_guard_fails(
    app, make, as_user, client, monkeypatch, spec, guard_name
):
    only_this_guard(monkeypatch, guard_name)
    cast = make_cast(make)
    obj = _failing_object(make, cast, spec, guard_name)
    data = _data(spec, cast, guard_name, obj)
    refused_by_the_guard = 0
    for role in ROLES:
        user = getattr(cast, role)
        status, message, code = _fire_verdict(obj, spec, user, data)
        assert status in (403, 404, 422), (role, status)
        web = _web_post(as_user(user), obj, spec, data)
        api = api_for(client, user)
        answer = _api_post(api, obj, spec, data)
        db.session.expire_all()
        if status == 422:
            refused_by_the_guard += 1
            assert code is not None
            listed = _listed_reason(obj, user, spec, guard_name, api)
            if guards.guard(guard_name).kind == guards.STATE:
                assert listed == message
            if guard_name == "assessor_cleared":
                # The loaders refuse an assessor who is not cleared before any action.
                assert web.status_code in (302, 404)
                assert answer.status_code in (403, 404)
                continue
        assert web.status_code == status, (role, web.get_data(as_text=True)[:300])
        assert answer.status_code == status, (role, answer.get_data(as_text=True)[:300])
        if spec.trigger in BARRIER_TRIGGERS:
            # The record page's barriers panel posts on the record: the same verdict, but for
            # the region's users, who do not find the record there (their page is the
            # barrier's).
            on_the_record = _web_post(as_user(user), obj, spec, data, on_the_record=True)
            assert on_the_record.status_code == (404 if role == "assessor" else status), role
        if status == 422:
            assert html.escape(message, quote=False) in web.get_data(as_text=True), role
            problem = answer.get_json()
            assert problem["detail"] == message
            assert problem["guard"] == guard_name and problem["guard_code"] == code
    assert refused_by_the_guard >= 1, "no role reached the guard"
    taken = select(AuditEntry).where(AuditEntry.action == spec.trigger)
    assert db.session.scalars(taken).first() is None  # nothing went through


def _listed_reason(obj, user, spec, guard_name, api) -> str | None:
    """The message the lists give for the blocked action (the kernel's and the API's agree)."""
    db.session.expire_all()
    listed_here = [a for a in action_availability(user, obj) if a.spec.trigger == spec.trigger]
    if isinstance(obj, Adoption) and user.role == "assessor":
        # The region's users resolve the region's barriers from the barrier's page: the record's
        # list of actions is not theirs to read (the kernel's lists what they may take).
        assert _api_list(api, obj).status_code == 404
    [action] = listed_here
    if guards.guard(guard_name).kind == guards.DATA:
        assert not action.blocked
        return None
    [failure] = action.blocked_by
    with force_locale("en"):
        message = str(failure.message)
    db.session.rollback()
    if guard_name != "assessor_cleared":
        listed = _api_list(api, obj).get_json()["items"]
        [item] = [i for i in listed if i["trigger"] == spec.trigger]
        assert item["blocked"] is True
        assert [r["message"] for r in item["blocked_reasons"]] == [message]
        assert item["blocked_reasons"][0]["guard"] == guard_name
    return message


@pytest.mark.parametrize(
    "spec", REIMBURSEMENT_WORKFLOW.transitions, ids=lambda spec: f"{spec.trigger}-{spec.dest}"
)
def test_the_reimbursement_actions_get_the_same_role_verdict_from_fire_the_web_and_the_api(
    app, make, as_user, client, spec
):
    """The reimbursement workflow declares no guard: the role and party verdicts agree. The
    region's users (the cast's assessor, of Lombardy, the IRCCS's region) act; everyone else is
    refused alike: 403 for a party who may read the case (the agency, the IRCCS that asked,
    the device's manufacturer), 404 for the others (another region's users among them)."""
    assert not any(t.guards for t in REIMBURSEMENT_WORKFLOW.transitions)
    cast = make_cast(make)
    request = make.request(
        manufacturer=cast.manufacturer_org, state="adoption_monitoring", submitted_at=NOW
    )
    db.session.add(
        Recommendation(
            request_id=request.id, outcome="recommended", rationale="r", published_at=NOW
        )
    )
    db.session.add(Adoption(request_id=request.id, irccs_id=cast.irccs_org.id))
    case = _tariff_case(request, cast, state=spec.sources[0])
    db.session.add(case)
    db.session.commit()
    data = _data(spec, cast, None, case)
    verdicts = {}
    for role in (*ROLES, "other_assessor", "other_irccs"):
        user = getattr(cast, role)
        status, _message, _code = _fire_verdict(case, spec, user, data)
        verdicts[role] = status
        if status == 200:
            continue  # it would go through: the region's own pages and tests take it
        web = _web_post(as_user(user), case, spec, data)
        answer = _api_post(api_for(client, user), case, spec, data)
        db.session.expire_all()
        assert web.status_code == status, role
        assert answer.status_code == status, (role, answer.get_json())
    assert verdicts == {
        "manufacturer": 403,
        "other_manufacturer": 404,
        "agency": 403,
        "assessor": 200,
        "irccs": 403,
        "admin": 404,
        "other_assessor": 404,
        "other_irccs": 404,
    }
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == spec.trigger)).first()
        is None
    )
