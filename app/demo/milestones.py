"""Demo evidence milestones: the first request published "with evidence generation" gets a
delivered milestone (with its document) and an open one still due, run by two IRCCS; through
the same operations as the pages, so audited (the request stays in adoption monitoring)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.assessment.milestones import deliver, set_milestone
from app.documents.operations import BytesUpload
from app.extensions import db
from app.models import DeviceRequest, Recommendation


def create_milestones(cast, now: datetime, pdf: bytes) -> int:
    request = db.session.scalars(
        select(DeviceRequest)
        .join(Recommendation, Recommendation.request_id == DeviceRequest.id)
        .where(
            Recommendation.outcome == "recommended_with_evidence_generation",
            DeviceRequest.state == "adoption_monitoring",
        )
        .order_by(DeviceRequest.id)
    ).first()
    if request is None:
        return 0
    irccs = [u.organisation_id for u in cast.irccs_users.values()]
    at = now - timedelta(days=30)
    delivered = set_milestone(
        cast.agency,
        request,
        {
            "evidence": "Mortalità a 12 mesi nei primi 100 pazienti",
            "id_kind": "nct",
            "study_id": "NCT05123456",
            "irccs_id": irccs[0],
            "due_on": (now - timedelta(days=10)).date(),
        },
        at,
    )
    set_milestone(
        cast.agency,
        request,
        {
            "evidence": "Esiti a 2 anni dal registro nazionale",
            "id_kind": "registry",
            "study_id": "Registro italiano TAVI",
            "irccs_id": irccs[1 % len(irccs)],
            "due_on": (now + timedelta(days=365)).date(),
        },
        at,
    )
    upload = BytesUpload(pdf + b"Risultati a 12 mesi", "risultati-12-mesi.pdf")
    deliver(cast.agency, request, delivered, upload, now - timedelta(days=12))
    return 2
