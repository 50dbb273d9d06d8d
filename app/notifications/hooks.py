"""Notifications of the request workflow's transitions (registered as "after" hooks).

Listed in `transition_hooks.HOOK_MODULES`; `fire` runs `notify_transition` inside the
transition's savepoint, after the audit entry is written, so the notifications commit or roll
back with the transition (the outbox).

Who is told, by trigger (`EVENTS`); any other transition that changes the state tells:
- the roles whose work queue the new state is in (`queue_arrival`), unless the role that
  acted keeps the request (the agency admitting a request it then prioritises is not told);
- the manufacturer, when someone else moved its request (`status_changed`).
Recipients are then narrowed by the permission rules (`recipients.recipients_for`), and the
user who acted is never told about what they did.
"""

from __future__ import annotations

from app.core.transition_hooks import after
from app.notifications import recipients as aud
from app.notifications.messages import request_ref
from app.notifications.outbox import notify
from app.workflow.definitions import REQUEST_WORKFLOW
from app.workflow.facts import facts

# Trigger -> (kind, audiences) written instead of the general rule.
EVENTS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "mark_incomplete": (("question_asked", frozenset({aud.MANUFACTURER})),),
    "request_information": (("question_asked", frozenset({aud.MANUFACTURER})),),
    "answer_information": (("question_answered", frozenset({aud.ASSESSORS})),),
    "resubmit": (("question_answered", frozenset({aud.AGENCY})),),
    "assign_body": (("queue_arrival", frozenset({aud.ASSESSORS})),),
    "decline_assignment": (("assignment_declined", frozenset({aud.AGENCY})),),
    "send_draft_report": (("draft_report", frozenset({aud.MANUFACTURER})),),
    "return_factual_comments": (("factual_comments", frozenset({aud.ASSESSORS})),),
    "publish": (("recommendation_published", frozenset({aud.MANUFACTURER, aud.IRCCS_ALL})),),
    "suspend": (("suspended", frozenset({aud.MANUFACTURER, aud.ASSESSORS, aud.IRCCS_USING})),),
    "resume": (("resumed", frozenset({aud.MANUFACTURER, aud.ASSESSORS, aud.IRCCS_USING})),),
    "withdraw": (("status_changed", frozenset({aud.AGENCY, aud.ASSESSORS})),),
}

ROLE_AUDIENCE = {
    "agency": aud.AGENCY,
    "assessor": aud.ASSESSORS,
    "manufacturer": aud.MANUFACTURER,
}


def queue_audiences(state: str) -> frozenset[str]:
    """The audiences whose work queue holds a request in `state`."""
    return frozenset(ROLE_AUDIENCE[role] for role in facts(state).queue if role in ROLE_AUDIENCE)


def events_for(trigger: str, dest: str, internal: bool, actor_role: str | None):
    """The (kind, audiences) a transition writes (see the module docstring)."""
    if trigger in EVENTS:
        return EVENTS[trigger]
    if internal:
        return ()
    acting = ROLE_AUDIENCE.get(actor_role or "")
    arrivals = queue_audiences(dest) - {acting}
    events = []
    if arrivals:
        events.append(("queue_arrival", frozenset(arrivals)))
    if acting != aud.MANUFACTURER and aud.MANUFACTURER not in arrivals:
        events.append(("status_changed", frozenset({aud.MANUFACTURER})))
    return tuple(events)


NOTIFYING_TRIGGERS = tuple(sorted({spec.trigger for spec in REQUEST_WORKFLOW.transitions}))


@after("request", *NOTIFYING_TRIGGERS)
def notify_transition(obj, spec, actor, now, data, entry) -> None:
    events = events_for(spec.trigger, spec.dest, spec.internal, actor.role if actor else None)
    if not events:
        return
    params = {"ref": request_ref(obj.receipt_number, obj.id), "state": obj.state}
    if spec.trigger == "publish":
        params["outcome"] = data.get("outcome")
    for kind, audiences in events:
        told = aud.recipients_for(obj, audiences, exclude_user_id=actor.id if actor else None)
        notify(kind, told, now, params=params)


# --- Events that are not transitions (called by the content operations) ----------------------


def consultation_comment_received(request, now) -> None:
    """A public comment waits for moderation: the agency is told."""
    params = {"ref": request_ref(request.receipt_number, request.id)}
    notify("consultation_comment", aud.recipients_for(request, {aud.AGENCY}), now, params=params)


def conflict_overridden(request, assessor_id: int, now) -> None:
    """The agency let a conflicted assessor take part: that assessor is told."""
    params = {"ref": request_ref(request.receipt_number, request.id)}
    told = [r for r in aud.recipients_for(request, {aud.ASSESSORS}) if r.user.id == assessor_id]
    notify("coi_override", told, now, params=params)


def safety_alert_raised(request, now) -> None:
    """An adverse-event rate over the device's threshold, or a CE certificate past its
    expiry: the agency is told at once (codes only, never the figures)."""
    params = {"ref": request_ref(request.receipt_number, request.id)}
    notify("safety_alert", aud.recipients_for(request, {aud.AGENCY}), now, params=params)
