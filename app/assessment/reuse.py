"""Reuse, not redo: the requests that match this one, the existing assessments recorded on it,
and the choice made for each HTA Core Model domain (adopted, adapted, redone).

Adopting or adapting a domain also starts it in the request's own assessment when nobody has
started it yet: adopted from one of our earlier requests copies its findings and conclusion
("done" when adopted, "in progress" when adapted); from an external report, the findings
cite the reference. A domain someone already started is never overwritten. Every recorded
reference and every choice is audit-logged on the request. Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from app.core.request_edits import audit_request_edit
from app.domain import permissions
from app.domain.core_model import DOMAINS, NOT_STARTED
from app.domain.errors import NotFound, PermissionDenied, ValidationFailed
from app.domain.reuse import CHOICES, SOURCES, is_duplicate, keys_of, match_reasons
from app.extensions import db
from app.models import DeviceRequest, DomainAssessment, DomainReuse, PriorAssessment
from app.requests.page_reads import Read

PRIOR_RECORDED = "prior_assessment_recorded"
REUSE_DECIDED = "assessment_reuse_decided"
URL_MAX = 500
REFERENCE_MAX = 300


@dataclass(frozen=True)
class Match:
    request: DeviceRequest | DuplicateRow
    reasons: tuple[str, ...]

    @property
    def duplicate(self) -> bool:
        return is_duplicate(self.reasons)


# --- Matching ---------------------------------------------------------------------------------


def matches_for(request: DeviceRequest) -> list[Match]:
    """The other submitted requests that concern the same device (Basic UDI-DI, UDI-DI) or the
    same kind of device from the same manufacturer (EMDN code), earliest first. One statement."""
    return matches_among([request]).get(request.id, [])


def matches_among(requests: Iterable[DeviceRequest]) -> dict[int, list[Match]]:
    """{request id: [Match]} for these requests, in one statement whatever their number."""
    requests = [r for r in requests if r.id is not None]
    if not requests:
        return {}
    keys = {r.id: keys_of(r) for r in requests}
    conditions = _candidate_conditions(requests)
    if not conditions:
        return {}
    candidates = db.session.scalars(
        select(DeviceRequest)
        .where(or_(*conditions), DeviceRequest.state != "draft")
        .options(joinedload(DeviceRequest.manufacturer))
        .order_by(DeviceRequest.submitted_at, DeviceRequest.id)
    ).all()
    # Each candidate's keys once (validating identifiers is not free), not once per pair.
    candidate_keys = [(other, keys_of(other)) for other in candidates]
    found: dict[int, list[Match]] = defaultdict(list)
    for r in requests:
        for other, other_keys in candidate_keys:
            if other.id == r.id:
                continue
            reasons = match_reasons(keys[r.id], other_keys)
            if reasons:
                found[r.id].append(Match(other, reasons))
    return dict(found)


def _candidate_conditions(requests: list[DeviceRequest]) -> list:
    """What a submitted request must share with one of `requests` to be a candidate match."""
    conditions = []
    for r in requests:
        if r.basic_udi_di:
            conditions.append(DeviceRequest.basic_udi_di == r.basic_udi_di)
        if r.udi_di:
            gtin = r.udi_di.strip()
            conditions.append(DeviceRequest.udi_di.in_({gtin, gtin.lstrip("0"), gtin.zfill(14)}))
        if r.emdn_code:
            conditions.append(
                and_(
                    DeviceRequest.emdn_code == r.emdn_code,
                    DeviceRequest.manufacturer_id == r.manufacturer_id,
                )
            )
    return conditions


@dataclass(frozen=True)
class DuplicateRow:
    """What the request page shows of a possible duplicate (a link: receipt number, else
    `DeviceRequest.title`)."""

    id: int
    receipt_number: str | None
    trade_name: str | None
    model: str | None

    @property
    def title(self) -> str:
        return " ".join(p for p in (self.trade_name, self.model) if p) or f"#{self.id}"


def duplicates_among(request: DeviceRequest, rows=None) -> list[Match]:
    """`matches_for(request)`'s duplicates (same device), each request read as the columns
    the matching and the page's link use (one statement, no request loaded whole; `rows`:
    its rows, when the request page read them with its own: `duplicates_reads`)."""
    asked = _duplicates_values(request)
    if asked is None:
        return []
    if rows is None:
        rows = db.session.execute(_duplicates_statement(frozenset(asked)), asked)
    mine = keys_of(request)
    found = []
    for row in rows:
        if row.id == request.id:
            continue
        match = Match(
            DuplicateRow(row.id, row.receipt_number, row.trade_name, row.model),
            match_reasons(mine, keys_of(row)),
        )
        if match.duplicate:
            found.append(match)
    return found


def duplicates_reads(request: DeviceRequest) -> tuple[list[Read], dict] | None:
    """`duplicates_among`'s statement as the request page's read "duplicates", with its
    values; None when the request has no identifier to match on."""
    asked = _duplicates_values(request)
    if asked is None:
        return None
    statement = _duplicates_statement(frozenset(asked))
    return [_duplicates_read(statement)], asked


@lru_cache(maxsize=8)
def _duplicates_read(statement: Select) -> Read:
    return Read("duplicates", statement, ("submitted_at", "id"))


def _duplicates_values(request: DeviceRequest) -> dict | None:
    """The identifiers `_duplicates_statement` binds for `request` (None: none to match)."""
    if request.id is None:
        return None
    values: dict = {}
    if request.basic_udi_di:
        values["basic_udi_di"] = request.basic_udi_di
    if request.udi_di:
        gtin = request.udi_di.strip()
        values["gtins"] = sorted({gtin, gtin.lstrip("0"), gtin.zfill(14)})
    if request.emdn_code:
        values |= {"emdn_code": request.emdn_code, "manufacturer_id": request.manufacturer_id}
    return values or None


@lru_cache(maxsize=8)
def _duplicates_statement(given: frozenset[str]) -> Select:
    """`duplicates_among`'s SELECT for the identifiers the request has (`given`: the names
    of the values bound), built once per such set: `_candidate_conditions`' conditions."""
    conditions = []
    if "basic_udi_di" in given:
        conditions.append(DeviceRequest.basic_udi_di == bindparam("basic_udi_di"))
    if "gtins" in given:
        conditions.append(DeviceRequest.udi_di.in_(bindparam("gtins", expanding=True)))
    if "emdn_code" in given:
        conditions.append(
            and_(
                DeviceRequest.emdn_code == bindparam("emdn_code"),
                DeviceRequest.manufacturer_id == bindparam("manufacturer_id"),
            )
        )
    return (
        select(
            DeviceRequest.id,
            DeviceRequest.receipt_number,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.basic_udi_di,
            DeviceRequest.udi_di,
            DeviceRequest.emdn_code,
            DeviceRequest.manufacturer_id,
            DeviceRequest.submitted_at,  # (its order, as the page's read numbers its rows)
        )
        .where(or_(*conditions), DeviceRequest.state != "draft")
        .order_by(DeviceRequest.submitted_at, DeviceRequest.id)
    )


def duplicate_flags(requests: Iterable[DeviceRequest]) -> dict[int, int]:
    """{request id: how many other requests concern the same device} (only ids with some)."""
    return {
        rid: sum(1 for m in matches if m.duplicate)
        for rid, matches in matches_among(requests).items()
        if any(m.duplicate for m in matches)
    }


# --- Prior assessments ------------------------------------------------------------------------


def priors_of(request_id: int) -> list[PriorAssessment]:
    return list(
        db.session.scalars(
            select(PriorAssessment)
            .where(PriorAssessment.request_id == request_id)
            .options(joinedload(PriorAssessment.source_request))
            .order_by(PriorAssessment.id)
        )
    )


def choices_of(request_id: int) -> dict[str, DomainReuse]:
    rows = db.session.scalars(select(DomainReuse).where(DomainReuse.request_id == request_id))
    return {row.domain: row for row in rows}


def _check_prior(values: Mapping, request: DeviceRequest) -> dict[str, str]:
    errors = {}
    source = values.get("source")
    if source not in SOURCES:
        errors["source"] = "invalid_choice"
    reference = (values.get("reference") or "").strip()
    if not reference:
        errors["reference"] = "required"
    elif len(reference) > REFERENCE_MAX:
        errors["reference"] = "too_long"
    if not isinstance(values.get("issued_on"), date):
        errors["issued_on"] = "required"
    url = (values.get("url") or "").strip()
    if url and (len(url) > URL_MAX or not url.startswith(("https://", "http://"))):
        errors["url"] = "invalid_url"
    if source == "ours":
        if values.get("source_request_id") in (None, request.id):
            errors["source_request_id"] = "required"
    elif source in SOURCES and not url:
        errors["url"] = "required"
    return errors


def record_prior(
    actor, request: DeviceRequest, values: Mapping, now: datetime, *, coi_cleared, ip=None
) -> PriorAssessment:
    """Record an existing assessment: source, reference, date, and a link or (ours) the
    earlier request, which must be one the actor may see."""
    if not permissions.can_record_reuse(actor, request, coi_cleared):
        raise PermissionDenied("no reuse can be recorded on this request now")
    errors = _check_prior(values, request)
    if errors:
        raise ValidationFailed("invalid prior assessment", fields=errors)
    source_request_id = values.get("source_request_id") if values["source"] == "ours" else None
    if source_request_id is not None:
        from app.requests.queries import get_request_for

        try:
            get_request_for(actor, source_request_id)
        except NotFound:
            raise ValidationFailed(
                "unknown earlier request", fields={"source_request_id": "not_found"}
            ) from None
    prior = PriorAssessment(
        request_id=request.id,
        source=values["source"],
        reference=values["reference"].strip(),
        issued_on=values["issued_on"],
        url=(values.get("url") or "").strip(),
        source_request_id=source_request_id,
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.session.add(prior)
    db.session.flush()
    changes = {
        "prior_assessment": [
            None,
            {
                "id": prior.id,
                "source": prior.source,
                "reference": prior.reference,
                "issued_on": prior.issued_on.isoformat(),
                "url": prior.url,
                "source_request_id": prior.source_request_id,
            },
        ]
    }
    audit_request_edit(actor, request, PRIOR_RECORDED, changes, now=now, ip=ip)
    return prior


# --- Domain choices ---------------------------------------------------------------------------


def decide_domains(
    actor,
    request: DeviceRequest,
    entries: Mapping[str, tuple[str | None, int | None, str]],
    now: datetime,
    *,
    coi_cleared,
    ip=None,
) -> dict:
    """Apply {domain: (choice or None, prior assessment id, note)}; None clears the choice.
    Returns the audit changes ({"<domain>": [old, new]})."""
    if not permissions.can_record_reuse(actor, request, coi_cleared):
        raise PermissionDenied("no reuse can be recorded on this request now")
    priors = {p.id: p for p in priors_of(request.id)}
    errors = {}
    for domain, (choice, prior_id, _note) in entries.items():
        if domain not in DOMAINS:
            errors[domain] = "unknown_domain"
        elif choice is not None and choice not in CHOICES:
            errors[domain] = "invalid_choice"
        elif choice is not None and prior_id not in priors:
            errors[domain] = "prior_required"
    if errors:
        raise ValidationFailed("invalid reuse choices", fields=errors)
    existing = choices_of(request.id)
    assessed = {
        row.domain: row
        for row in db.session.scalars(
            select(DomainAssessment).where(DomainAssessment.request_id == request.id)
        )
    }
    changes = {}
    for domain, (choice, prior_id, note) in entries.items():
        row = existing.get(domain)
        old = (row.choice, row.prior_assessment_id) if row else (None, None)
        new = (choice, prior_id if choice else None)
        if old == new and (row is None or row.note == (note or "").strip()):
            continue
        changes[domain] = [_choice_text(*old), _choice_text(*new)]
        _write_choice(row, request, domain, choice, prior_id, note, actor, now)
        if choice in ("adopted", "adapted"):
            _start_domain(assessed.get(domain), request, domain, choice, priors[prior_id], now)
    return audit_request_edit(actor, request, REUSE_DECIDED, changes, now=now, ip=ip)


def _choice_text(choice, prior_id) -> str | None:
    return None if choice is None else f"{choice} (prior assessment {prior_id})"


def _write_choice(row, request, domain, choice, prior_id, note, actor, now) -> None:
    if choice is None:
        if row is not None:
            db.session.delete(row)
        return
    row = row or DomainReuse(request_id=request.id, domain=domain)
    row.choice, row.prior_assessment_id, row.note = choice, prior_id, (note or "").strip()
    row.decided_by_id, row.decided_at = actor.id, now
    db.session.add(row)


def _start_domain(record, request, domain, choice, prior: PriorAssessment, now) -> None:
    """Start the domain from the prior assessment, unless someone already started it."""
    if record is not None and record.status != NOT_STARTED:
        return
    findings, conclusion = _prior_texts(prior, domain)
    record = record or DomainAssessment(request_id=request.id, domain=domain)
    record.status = "done" if choice == "adopted" else "in_progress"
    record.findings, record.conclusion = findings, conclusion
    record.updated_at = now
    db.session.add(record)


def _prior_texts(prior: PriorAssessment, domain: str) -> tuple[str, str]:
    cite = f"{prior.reference} ({prior.issued_on.isoformat()})" + (
        f" {prior.url}" if prior.url else ""
    )
    if prior.source == "ours" and prior.source_request_id is not None:
        source = db.session.scalars(
            select(DomainAssessment).where(
                DomainAssessment.request_id == prior.source_request_id,
                DomainAssessment.domain == domain,
            )
        ).one_or_none()
        if source is not None and (source.findings or source.conclusion):
            return f"{source.findings}\n\n[{cite}]".strip(), source.conclusion
    return f"[{cite}]", ""


# --- Days saved (timing report) ---------------------------------------------------------------


@dataclass(frozen=True)
class SavingRow:
    request: DeviceRequest
    choices: dict[str, str]  # domain -> choice
    sources: tuple[str, ...]
    days_saved: float


def reuse_savings(actor, assessment_days: int) -> list[SavingRow]:
    """The requests the actor may see where an existing assessment was reused, with the days
    it saves (`app.domain.reuse.days_saved`). Two statements."""
    from app.domain.reuse import days_saved
    from app.requests.queries import visible_requests

    rows = db.session.execute(
        select(
            DomainReuse.request_id, DomainReuse.domain, DomainReuse.choice, PriorAssessment.source
        )
        .join(PriorAssessment, PriorAssessment.id == DomainReuse.prior_assessment_id)
        .where(
            DomainReuse.request_id.in_(visible_requests(actor).with_only_columns(DeviceRequest.id))
        )
    ).all()
    choices: dict[int, dict[str, str]] = defaultdict(dict)
    sources: dict[int, set[str]] = defaultdict(set)
    for request_id, domain, choice, source in rows:
        choices[request_id][domain] = choice
        sources[request_id].add(source)
    if not choices:
        return []
    requests = db.session.scalars(
        select(DeviceRequest).where(DeviceRequest.id.in_(choices)).order_by(DeviceRequest.id)
    ).all()
    return [
        SavingRow(
            r,
            choices[r.id],
            tuple(sorted(sources[r.id])),
            days_saved(choices[r.id], assessment_days),
        )
        for r in requests
        if days_saved(choices[r.id], assessment_days) > 0
    ]
