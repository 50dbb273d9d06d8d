"""Demo reuse of existing assessments: a request under assessment builds on one of our earlier
published assessments (two domains adopted, one adapted), another at intake on an EU joint
clinical assessment; through the same operations as the pages, so audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.assessment.reuse import decide_domains, record_prior
from app.extensions import db
from app.models import DeviceRequest


def _first(state: str) -> DeviceRequest | None:
    return db.session.scalars(
        select(DeviceRequest).where(DeviceRequest.state == state).order_by(DeviceRequest.id)
    ).first()


def create_reuse(cast, now: datetime) -> int:
    """Returns how many requests reuse an existing assessment."""
    agency = cast.agency
    earlier, assessed, intake = (
        _first("adoption_monitoring"),
        _first("assessment"),
        _first("intake_review"),
    )
    count = 0
    if earlier is not None and assessed is not None:
        at = now - timedelta(days=20)
        prior = record_prior(
            agency,
            assessed,
            {
                "source": "ours",
                "reference": f"Valutazione HTA {earlier.receipt_number}",
                "issued_on": (earlier.submitted_at or at).date(),
                "source_request_id": earlier.id,
            },
            at,
            coi_cleared=None,
        )
        entries = {
            "health_problem": ("adopted", prior.id, ""),
            "technical_characteristics": ("adopted", prior.id, ""),
            "costs_economic_evaluation": ("adapted", prior.id, "Prezzi italiani diversi."),
        }
        decide_domains(agency, assessed, entries, at, coi_cleared=None)
        count += 1
    if intake is not None:
        record_prior(
            agency,
            intake,
            {
                "source": "eu_jca",
                "reference": "EU JCA 2025/014",
                "issued_on": date(2025, 11, 20),
                "url": "https://health.ec.europa.eu/health-technology-assessment",
            },
            now - timedelta(days=2),
            coi_cleared=None,
        )
        count += 1
    return count
