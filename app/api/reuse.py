"""Reuse of existing assessments: the requests matching one (duplicates flagged), the
existing assessments recorded on it, and the choice for each Core Model domain. The agency and
the cleared assessors of the assigned body only (others: 404 for an invisible request, 403)."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from app.api import schema_types as t
from app.api.bodies import json_body
from app.api.problems import ApiError
from app.api.registry import actor, operation
from app.assessment import reuse as service
from app.domain import permissions
from app.domain.core_model import DOMAINS
from app.domain.reuse import CHOICES, SOURCES
from app.models.types import utcnow
from app.requests.queries import coi_status_for, get_request_for

MATCH_REASONS = ("basic_udi_di", "udi_di", "emdn_and_manufacturer")

PRIOR = t.component(
    "PriorAssessment",
    t.obj(
        {
            "id": t.ID,
            "source": t.enum(SOURCES),
            "reference": t.STRING,
            "issued_on": t.DATE,
            "url": t.STRING,
            "source_request_id": t.nullable(t.ID),
        }
    ),
)
t.component(
    "Reuse",
    t.obj(
        {
            "matches": t.array(
                t.obj(
                    {
                        "request_id": t.ID,
                        "title": t.STRING,
                        "receipt_number": t.nullable(t.STRING),
                        "duplicate": t.BOOLEAN,
                        "reasons": t.array(t.enum(MATCH_REASONS)),
                    }
                )
            ),
            "prior_assessments": t.array(PRIOR),
            "domains": t.obj(
                {
                    d: t.nullable(
                        t.obj(
                            {
                                "choice": t.enum(CHOICES),
                                "prior_assessment_id": t.ID,
                                "note": t.STRING,
                            }
                        )
                    )
                    for d in DOMAINS
                }
            ),
        }
    ),
)
t.component(
    "PriorAssessmentInput",
    t.obj(
        {
            "source": t.enum(SOURCES),
            "reference": {"type": "string", "minLength": 1, "maxLength": 300},
            "issued_on": t.DATE,
            "url": {"type": "string", "maxLength": 500},
            "source_request_id": t.ID,
        },
        required=("source", "reference", "issued_on"),
        additionalProperties=False,
    ),
)
t.component(
    "ReuseChoicesInput",
    t.obj(
        {
            d: t.nullable(
                t.obj(
                    {
                        "choice": t.enum(CHOICES),
                        "prior_assessment_id": t.ID,
                        "note": {"type": "string", "maxLength": 2000},
                    },
                    required=("choice", "prior_assessment_id"),
                    additionalProperties=False,
                )
            )
            for d in DOMAINS
        },
        required=(),
        additionalProperties=False,
        description="Only the domains sent change; null clears a domain's choice.",
    ),
)


def _load(request_id: int):
    user = actor()
    req = get_request_for(user, request_id)
    status = coi_status_for(user, req)
    cleared = None if status is None else status == permissions.COI_CLEARED
    if not permissions.can_view_reuse(user, req, cleared):
        raise ApiError(403, "forbidden")
    return req, cleared


def _payload(req) -> dict:
    choices = service.choices_of(req.id)
    return {
        "matches": [
            {
                "request_id": m.request.id,
                "title": m.request.title,
                "receipt_number": m.request.receipt_number,
                "duplicate": m.duplicate,
                "reasons": list(m.reasons),
            }
            for m in service.matches_for(req)
        ],
        "prior_assessments": [
            {
                "id": p.id,
                "source": p.source,
                "reference": p.reference,
                "issued_on": p.issued_on,
                "url": p.url,
                "source_request_id": p.source_request_id,
            }
            for p in service.priors_of(req.id)
        ],
        "domains": {
            d: (
                {
                    "choice": choices[d].choice,
                    "prior_assessment_id": choices[d].prior_assessment_id,
                    "note": choices[d].note,
                }
                if d in choices
                else None
            )
            for d in DOMAINS
        },
    }


def _invalid(fields: dict) -> ApiError:
    return ApiError(
        422,
        "validation",
        errors={name: [_("This value is not valid.")] for name in fields},
        error_codes={name: [code] for name, code in fields.items()},
    )


@operation(
    "GET",
    "/requests/<int:request_id>/reuse",
    tag="Reuse",
    summary="Matching requests, existing assessments and the choice for each domain",
    response="Reuse",
    errors=(403, 404),
)
def get_reuse(request_id: int):
    req, _cleared = _load(request_id)
    return _payload(req)


@operation(
    "POST",
    "/requests/<int:request_id>/prior-assessments",
    tag="Reuse",
    summary="Record an existing assessment (ours, EU JCA, another region's report)",
    response="Reuse",
    status=201,
    body="json",
    body_schema="PriorAssessmentInput",
    errors=(403, 404, 413, 415, 422),
    idempotent=True,
)
def record_prior_assessment(request_id: int):
    """`url` is required for an EU joint clinical assessment or another region's report;
    `source_request_id` (a request you may see) for one of ours."""
    req, cleared = _load(request_id)
    body = json_body()
    unknown = set(body) - {"source", "reference", "issued_on", "url", "source_request_id"}
    if unknown:
        raise _invalid(dict.fromkeys(unknown, "unknown_field"))
    try:
        issued_on = date.fromisoformat(body.get("issued_on")) if body.get("issued_on") else None
    except (TypeError, ValueError):
        raise _invalid({"issued_on": "invalid_date"}) from None
    values = {
        "source": body.get("source"),
        "reference": body.get("reference") if isinstance(body.get("reference"), str) else "",
        "issued_on": issued_on,
        "url": body.get("url") if isinstance(body.get("url"), str) else "",
        "source_request_id": body.get("source_request_id")
        if isinstance(body.get("source_request_id"), int)
        else None,
    }
    service.record_prior(
        actor(), req, values, utcnow(), coi_cleared=cleared, ip=request.remote_addr
    )
    return _payload(req), 201


@operation(
    "POST",
    "/requests/<int:request_id>/reuse",
    tag="Reuse",
    summary="Adopt, adapt or redo Core Model domains from an existing assessment",
    response="Reuse",
    body="json",
    body_schema="ReuseChoicesInput",
    errors=(403, 404, 413, 415, 422),
    idempotent=True,
)
def decide_reuse(request_id: int):
    req, cleared = _load(request_id)
    body = json_body()
    entries, errors = {}, {}
    for domain, value in body.items():
        if domain not in DOMAINS:
            errors[domain] = "unknown_domain"
        elif value is None:
            entries[domain] = (None, None, "")
        elif not isinstance(value, dict) or not isinstance(value.get("prior_assessment_id"), int):
            errors[domain] = "invalid"
        else:
            note = value.get("note") if isinstance(value.get("note"), str) else ""
            entries[domain] = (value.get("choice"), value["prior_assessment_id"], note)
    if errors:
        raise _invalid(errors)
    service.decide_domains(
        actor(), req, entries, utcnow(), coi_cleared=cleared, ip=request.remote_addr
    )
    return _payload(req)
