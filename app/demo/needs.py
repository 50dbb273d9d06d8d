"""Demo IRCCS needs: a few unmet clinical needs posted by IRCCS and a regional body,
endorsed by other IRCCS and linked by manufacturers to their requests still before appraisal,
all through the same operations as the pages (so they are audit-logged)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.domain import permissions
from app.extensions import db
from app.models import DeviceRequest
from app.needs.operations import endorse_need, link_need, post_need

# (title, condition, population, patients per year, standard of care, what is missing)
NEEDS = (
    (
        "TAVI per pazienti fragili",
        "Stenosi aortica severa sintomatica",
        "Adulti oltre 75 anni non candidabili a chirurgia",
        1400,
        "Sostituzione valvolare chirurgica",
        "Nessuna opzione per chi non può affrontare la chirurgia a cuore aperto",
    ),
    (
        "Monitoraggio glicemico continuo in età pediatrica",
        "Diabete di tipo 1",
        "Bambini sotto i 6 anni",
        600,
        "Glicemia capillare più volte al giorno",
        "Ipoglicemie notturne non rilevate; carico sulle famiglie",
    ),
    (
        "Ablazione polmonare per tumori non operabili",
        "Tumore polmonare in stadio iniziale non operabile",
        "Adulti con comorbidità che escludono la chirurgia",
        300,
        "Radioterapia stereotassica",
        "Un'alternativa per lesioni vicine a strutture critiche",
    ),
)


def create_needs(cast, now: datetime) -> int:
    """Post the demo needs (the first by the demo IRCCS, the last by a regional body's
    assessor), have two or three other IRCCS endorse each and link each to one request still
    before appraisal. Returns how many needs were posted."""
    irccs_users = list(cast.irccs_users.values())
    posters = [
        irccs_users[0],
        irccs_users[1 % len(irccs_users)],
        next(iter(cast.assessors.values())),
    ]
    linkable = list(
        db.session.scalars(
            select(DeviceRequest)
            .where(DeviceRequest.state.in_(permissions.NEED_LINKABLE_STATES))
            .where(DeviceRequest.state != "draft")
            .order_by(DeviceRequest.id)
        )
    )
    for n, (title, condition, population, patients, care, gap) in enumerate(NEEDS):
        posted_at = now - timedelta(days=60 - 10 * n)
        values = {
            "title": title,
            "condition": condition,
            "population": population,
            "patients_per_year": patients,
            "standard_of_care": care,
            "gap": gap,
        }
        poster = posters[n]
        need = post_need(poster, values, posted_at)
        endorsers = [u for u in irccs_users if u.organisation_id != poster.organisation_id]
        for days, user in enumerate(endorsers[: 3 - n % 2], start=1):
            endorse_need(user, need, posted_at + timedelta(days=days))
        if n < len(linkable):
            request = linkable[n]
            maker = next(
                m for m in cast.manufacturers if m.organisation_id == request.manufacturer_id
            )
            link_need(maker, request, need, posted_at + timedelta(days=5))
    return len(NEEDS)
