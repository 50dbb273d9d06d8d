"""The safety loop's operations (never commit).

- A usage report whose adverse-event rate is above the device's threshold (the agency's, else
  the dossier's default: `app.domain.safety`) raises an alert to the agency, once per report.
- `flask deadlines check` raises one for a request still in force whose CE certificate expired.
- From an alert the agency suspends the device in one click: `fire("suspend")` with the
  alert in the reason and the vigilance references (field safety notice number, competent
  authority reference) in the transition's data; suspension and resumption reach every IRCCS
  concerned through the notifications of the transition. Or it dismisses the alert, saying why.
Each step is audit-logged.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.audit import record_audit
from app.core.fire import fire
from app.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.domain.safety import default_threshold, event_rate, is_valid_threshold, over_threshold
from app.extensions import db
from app.models import DeviceRequest, SafetyAlert, SafetyThreshold
from app.workflow.definitions import SUSPENDABLE_STATES

ALERT_ENTITY = "safety_alert"
SUSPENSION_REASONS = {
    "adverse_event_rate": "Safety alert: adverse events above the device's threshold.",
    "ce_certificate": "Safety alert: the CE certificate has expired.",
}
RAISED = "safety_alert_raised"
DISMISSED = "safety_alert_dismissed"
THRESHOLD_SET = "safety_threshold_set"


def threshold_for(request: DeviceRequest) -> tuple[Decimal, str]:
    """(adverse events per 100 procedures, "agency" or "dossier")."""
    row = db.session.get(SafetyThreshold, request.id)
    if row is not None:
        return Decimal(row.per_100), "agency"
    return default_threshold(request.risk_class, bool(request.is_implantable)), "dossier"


def set_threshold(actor, request: DeviceRequest, value, now: datetime, ip=None) -> Decimal:
    if actor.role != "agency":
        raise PermissionDenied("the agency sets the safety threshold")
    try:
        per_100 = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("invalid threshold", fields={"per_100": "invalid"}) from None
    if not is_valid_threshold(per_100):
        raise ValidationFailed("invalid threshold", fields={"per_100": "out_of_range"})
    old, _source = threshold_for(request)
    row = db.session.get(SafetyThreshold, request.id) or SafetyThreshold(request_id=request.id)
    row.per_100, row.set_by_id, row.set_at = per_100, actor.id, now
    db.session.add(row)
    db.session.flush()
    record_audit(
        actor,
        entity_type="request",
        entity_id=request.id,
        request_id=request.id,
        action=THRESHOLD_SET,
        now=now,
        changes={"safety_threshold": [str(old), str(per_100)]},
        ip=ip,
    )
    return per_100


def _raise(request, kind, cause_key, now, **fields) -> SafetyAlert | None:
    exists = db.session.scalar(select(SafetyAlert.id).where(SafetyAlert.cause_key == cause_key))
    if exists is not None:
        return None
    alert = SafetyAlert(
        request_id=request.id, kind=kind, cause_key=cause_key, raised_at=now, **fields
    )
    db.session.add(alert)
    db.session.flush()
    record_audit(
        None,
        entity_type=ALERT_ENTITY,
        entity_id=alert.id,
        request_id=request.id,
        action=RAISED,
        now=now,
        data={
            "kind": kind,
            "rate": None if alert.rate is None else str(alert.rate),
            "threshold": None if alert.threshold is None else str(alert.threshold),
        },
    )
    from app.notifications.hooks import safety_alert_raised

    safety_alert_raised(request, now)
    return alert


def check_usage(report, adoption, now: datetime) -> SafetyAlert | None:
    """After a usage report is stored: an alert when its rate is over the threshold."""
    request = adoption.request
    threshold, _source = threshold_for(request)
    if not over_threshold(report.adverse_events, report.procedures, threshold):
        return None
    rate = event_rate(report.adverse_events, report.procedures)
    return _raise(
        request,
        "adverse_event_rate",
        f"usage:{report.id}",
        now,
        adoption_id=adoption.id,
        usage_report_id=report.id,
        rate=rate,
        threshold=threshold,
        summary=f"{report.year} Q{report.quarter}: {report.adverse_events} adverse events, "
        f"{report.procedures} procedures",
    )


def check_certificates(today: date, now: datetime) -> list[SafetyAlert]:
    """A request in force (suspendable) whose CE certificate expired before `today`: one alert
    per expiry date. Idempotent."""
    requests = db.session.scalars(
        select(DeviceRequest)
        .where(
            DeviceRequest.state.in_(SUSPENDABLE_STATES),
            DeviceRequest.ce_certificate_expires_on.is_not(None),
            DeviceRequest.ce_certificate_expires_on < today,
        )
        .order_by(DeviceRequest.id)
    ).all()
    raised = []
    for request in requests:
        expiry = request.ce_certificate_expires_on
        alert = _raise(
            request,
            "ce_certificate",
            f"ce:{request.id}:{expiry.isoformat()}",
            now,
            summary=f"CE certificate {request.ce_certificate_number} expired on {expiry}",
        )
        if alert is not None:
            raised.append(alert)
    return raised


def alerts(status: str | None = None, limit: int = 100) -> list[SafetyAlert]:
    query = select(SafetyAlert).options(joinedload(SafetyAlert.request))
    if status:
        query = query.where(SafetyAlert.status == status)
    return list(db.session.scalars(query.order_by(SafetyAlert.id.desc()).limit(limit)))


def alerts_of(request_id: int) -> list[SafetyAlert]:
    return list(
        db.session.scalars(
            select(SafetyAlert).where(SafetyAlert.request_id == request_id).order_by(SafetyAlert.id)
        )
    )


def get_alert(actor, alert_id: int) -> SafetyAlert:
    if actor.role != "agency":
        raise NotFound("no such alert")
    alert = db.session.get(SafetyAlert, alert_id)
    if alert is None:
        raise NotFound("no such alert")
    return alert


def suspend_from(
    actor,
    alert: SafetyAlert,
    now: datetime,
    *,
    reason: str,
    fsn_number: str = "",
    authority_reference: str = "",
    ip=None,
):
    """Suspend the device of the alert through `fire`; every open alert of the request closes."""
    if alert.status != "open":
        raise Conflict("this alert is closed already")
    request = alert.request
    # The default reason names the kind of alert, never an IRCCS's figures (the manufacturer
    # reads the suspension's reason in its audit trail).
    why = (reason or "").strip() or SUSPENSION_REASONS[alert.kind]
    entry = fire(
        request,
        "suspend",
        actor,
        now,
        reason=why,
        ip=ip,
        fsn_number=(fsn_number or "").strip(),
        authority_reference=(authority_reference or "").strip(),
    )
    for other in db.session.scalars(
        select(SafetyAlert).where(
            SafetyAlert.request_id == request.id, SafetyAlert.status == "open"
        )
    ):
        other.status, other.closed_at, other.closed_by_id = "suspended", now, actor.id
    db.session.flush()
    return entry


def dismiss(actor, alert: SafetyAlert, now: datetime, reason: str, ip=None) -> None:
    if alert.status != "open":
        raise Conflict("this alert is closed already")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("a dismissal needs its reason", fields={"reason": "required"})
    alert.status, alert.closed_at, alert.closed_by_id = "dismissed", now, actor.id
    db.session.flush()
    record_audit(
        actor,
        entity_type=ALERT_ENTITY,
        entity_id=alert.id,
        request_id=alert.request_id,
        action=DISMISSED,
        now=now,
        reason=reason,
        ip=ip,
    )
