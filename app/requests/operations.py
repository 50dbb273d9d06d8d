"""Creating and editing the request dossier: permission, rules, field-level changes, audit.

`data` is a mapping of DeviceRequest attribute names to clean values (what
`DossierForm.dossier_data()` returns; an API would build the same): strings, Decimals, dates,
ints, `confidential_fields` as a list, `comparators` as [{"description"}] and `evidence` as
[{"design", "patients", "follow_up_months", "published_on", "reference"}]. Keys left out are
left alone. The domain rules run again here as a safety net for callers other than the form.

Never commits: the view (or CLI) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.core.locking import check_version, lock
from app.core.request_edits import audit_request_edit
from app.domain import permissions
from app.domain.audit_chain import jsonable
from app.domain.dossier_rules import (
    MONEY_FIELDS,
    SECTIONS,
    MissingItem,
    dossier_errors,
    missing_for_submission,
)
from app.domain.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Comparator, DeviceRequest, EvidenceItem
from app.requests.queries import outcome_of

LOCAL_TIMEZONE = ZoneInfo("Europe/Rome")

SCALAR_FIELDS = (
    "trade_name",
    "model",
    "intended_purpose",
    "regulation",
    "risk_class",
    "basic_udi_di",
    "udi_di",
    "emdn_code",
    "repertorio_number",
    "notified_body_number",
    "ce_certificate_number",
    "ce_certificate_issued_on",
    "ce_certificate_expires_on",
    "is_software",
    "uses_ai",
    "is_implantable",
    "condition",
    "severity",
    "population",
    "eligible_patients_per_year",
    "intervention",
    "care_setting",
    "outcomes",
    "claimed_benefits",
    "unmet_need",
    "list_price",
    "acquisition_cost",
    "running_costs_per_year",
    "budget_impact_3y",
    "expected_volume_per_year",
    "consent_to_publication",
    "confidential_fields",
    "coi_declaration",
    "coi_declared",
)
EVIDENCE_ATTRIBUTES = ("design", "patients", "follow_up_months", "published_on", "reference")
AUDIT_ACTION_EDIT = "dossier_updated"
CENT = Decimal("0.01")


def local_today(now: datetime) -> date:
    """The calendar day in Italy at `now` (date rules are about Italian days)."""
    return now.astimezone(LOCAL_TIMEZONE).date()


def create_draft(actor, data: Mapping[str, Any], now: datetime) -> DeviceRequest:
    """A new draft of the actor's organisation, filled with whatever `data` holds."""
    if not permissions.can_create_request(actor):
        raise PermissionDenied("only a manufacturer can create a request")
    _refuse_invalid(data, now)
    request = DeviceRequest(
        manufacturer_id=actor.organisation_id,
        created_by_id=actor.id,
        state="draft",
        created_at=now,
        updated_at=now,
    )
    _apply(request, data)
    db.session.add(request)
    db.session.flush()
    return request


def update_dossier(
    actor,
    request: DeviceRequest,
    data: Mapping[str, Any],
    now: datetime,
    *,
    expected_version: int | str | None = None,
    ip: str | None = None,
) -> dict[str, list]:
    """Apply `data`; return {field: [old, new]} (JSON-safe) for what actually changed.

    Outside the draft (the file is being completed after intake) the changes go to the audit
    trail. `expected_version` is the version the editor started from: if someone saved (or
    submitted) in between, Conflict is raised instead of silently overwriting their work; a
    blank or malformed one is refused the same way. The row is locked and re-read first, so
    the checks see what the database holds now.
    """
    lock(request, "request")
    if not permissions.can_view_request(actor, request, outcome_of(request)):
        raise NotFound("request not found", denied=("request", request.id))
    check_version(request, expected_version, "request")
    if not permissions.can_edit_dossier(actor, request):
        raise PermissionDenied("this dossier cannot be edited now", denied=("request", request.id))
    _refuse_invalid(data, now)
    before = dossier_snapshot(request)
    _apply(request, data)
    after = dossier_snapshot(request)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes:
        request.updated_at = now
    audited = changes if request.state != "draft" else {}  # a draft's edits are not audited
    audit_request_edit(actor, request, AUDIT_ACTION_EDIT, audited, now=now, ip=ip)
    return changes


def dossier_snapshot(request: DeviceRequest) -> dict[str, Any]:
    """Every dossier value as JSON-safe data (decimals and dates as text)."""
    snapshot = {name: getattr(request, name) for name in SCALAR_FIELDS}
    snapshot["confidential_fields"] = sorted(request.confidential_fields or [])
    snapshot["comparators"] = [c.description for c in request.comparators]
    snapshot["evidence"] = [
        {name: getattr(item, name) for name in EVIDENCE_ATTRIBUTES} for item in request.evidence
    ]
    return jsonable(snapshot)


def missing_by_section(request: DeviceRequest) -> dict[str, list[str]]:
    """The submission checklist grouped by section (sections with nothing missing omitted)."""
    grouped: dict[str, list[str]] = {section: [] for section in SECTIONS}
    item: MissingItem
    for item in missing_for_submission(request):
        grouped[item.section].append(item.field)
    return {section: fields for section, fields in grouped.items() if fields}


def _refuse_invalid(data: Mapping[str, Any], now: datetime) -> None:
    errors = dossier_errors(data, local_today(now))
    if errors:
        raise ValidationFailed("the dossier has invalid values", fields=errors)


def _apply(request: DeviceRequest, data: Mapping[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        if name in data:
            value = data[name]
            if name in MONEY_FIELDS and value is not None:
                value = Decimal(value).quantize(CENT)  # as the column will give it back
            setattr(request, name, value)
    if "comparators" in data:
        _replace_comparators(request, data["comparators"])
    if "evidence" in data:
        _replace_evidence(request, data["evidence"])


def _replace_comparators(request: DeviceRequest, rows: list[Mapping[str, Any]]) -> None:
    # Rows are updated in place by position, so the (request, position) uniqueness never
    # sees a new row before the old one at that position is gone.
    existing = request.comparators
    for position, row in enumerate(rows, start=1):
        if position <= len(existing):
            existing[position - 1].description = row["description"]
        else:
            existing.append(Comparator(position=position, description=row["description"]))
    del existing[len(rows) :]


def _replace_evidence(request: DeviceRequest, rows: list[Mapping[str, Any]]) -> None:
    existing = request.evidence
    for position, row in enumerate(rows, start=1):
        values = {name: row.get(name) for name in EVIDENCE_ATTRIBUTES}
        if position <= len(existing):
            for name, value in values.items():
                setattr(existing[position - 1], name, value)
        else:
            existing.append(EvidenceItem(position=position, **values))
    del existing[len(rows) :]
