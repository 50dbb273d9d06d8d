"""What people say to each other in the demo histories, through the same services as the
pages (so every step is audit-logged): declared conflicts of interest and the agency's
override, the manufacturer's factual-accuracy comments with the assessor's responses, and the
public consultation's comments (published and answered, rejected, still pending).

Each public function is a step's "stage content" (`app.demo.data.STAGE_CONTENT`): called with
the request, the step's actor, the step's moment and the step's data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.assessment.coi import declaration_of, declare, override
from app.assessment.core_model import (
    answer_factual_comment,
    factual_comments,
    return_factual_comments,
)
from app.extensions import db
from app.models import CoiDeclaration
from app.public.consultation import CommentData, answer_comment, moderate_comment, submit_comment

# --- conflicts of interest -------------------------------------------------------------------


def declare_no_conflict(request, assessor, now: datetime, _data) -> None:
    """Before acting on a request an assessor declares; "none" unless they already did."""
    if declaration_of(request.id, assessor.id) is None:
        declare(assessor, request, has_conflict=False, description="", now=now)


def declare_conflict(request, assessor, now: datetime, _data) -> None:
    """The assigned body's assessor has a link with the manufacturer: declared, so excluded
    until the agency overrides it (or assigns another body)."""
    declare(
        assessor,
        request,
        has_conflict=True,
        description="Consulenza retribuita al produttore nel 2024 (formazione sul dispositivo).",
        now=now,
    )


def override_conflict(request, agency, now: datetime, _data) -> None:
    """The agency lets the conflicted assessor take part: the link was minor and is over."""
    declaration = db.session.scalars(
        select(CoiDeclaration)
        .where(CoiDeclaration.request_id == request.id, CoiDeclaration.has_conflict.is_(True))
        .order_by(CoiDeclaration.id)
    ).first()
    override(
        agency,
        declaration,
        reason="Consulenza conclusa e di importo modesto; unico valutatore esperto disponibile.",
        now=now,
    )


# --- the factual-accuracy check ----------------------------------------------------------------

# The manufacturer's comments on the draft report, by HTA Core Model domain.
FACTUAL_COMMENTS = {
    "safety": "Il tasso di complicanze a 30 giorni è 2,1%, non 3,1% (tabella 4 dello studio).",
    "costs_economic_evaluation": (
        "Il prezzo considerato è il listino 2024; dal 2025 il listino è inferiore del 4%."
    ),
}
# The assessor's response to each, in the same order: one correction accepted, one not.
FACTUAL_REPLIES = (
    ("accepted", "Corretto nella versione finale: il dato era stato trascritto male."),
    (
        "not_accepted",
        "Il rapporto usa i prezzi in vigore alla data della valutazione; il nuovo listino sarà "
        "considerato nella rivalutazione.",
    ),
)


def return_comments(request, manufacturer, now: datetime, data) -> None:
    """The manufacturer returns its comments by section, with a general one."""
    return_factual_comments(manufacturer, request, FACTUAL_COMMENTS, data["comments"], now)


def answer_comments(request, assessor, now: datetime, _data) -> None:
    """Before finalising, the assessor answers each comment (the day before)."""
    replies = iter(FACTUAL_REPLIES * len(FACTUAL_COMMENTS))
    for comment in factual_comments(request.id):
        if comment.response is None:
            response, reply = next(replies)
            answer_factual_comment(
                assessor,
                request,
                comment.id,
                response,
                reply,
                now - timedelta(days=1),
                coi_cleared=True,
            )


# --- the public consultation -----------------------------------------------------------------

# (author, text, the agency's decision, its reason or answer): sent in this order.
CONSULTATION_COMMENTS = (
    (
        "Associazione Pazienti Cardiopatici",
        "Chiediamo che le condizioni d'uso siano spiegate anche ai pazienti, con un foglio "
        "informativo comune a tutti i centri.",
        "publish",
        "Il foglio informativo sarà allegato alla raccomandazione pubblicata.",
    ),
    (
        "Società scientifica di cardiologia interventistica",
        "I centri designati dovrebbero avere almeno 50 procedure l'anno per mantenere la "
        "competenza degli operatori.",
        "publish",
        "Il criterio di volume è stato aggiunto ai criteri di designazione.",
    ),
    (
        "Anonimo",
        "Visitate il nostro sito per offerte sui dispositivi medici.",
        "reject",
        "Messaggio pubblicitario, non pertinente alla consultazione.",
    ),
    (
        "Farmacia ospedaliera, ASST di Bergamo",
        "Il costo per procedura stimato non include la formazione del personale di sala.",
        "publish",
        "La formazione è inclusa nei costi di gestione annui del rapporto di valutazione.",
    ),
)


def consultation_comments(request, agency, now: datetime, data) -> None:
    """Comments sent during the consultation that ends `now` (or is still open on it, with
    `still_open` in the data): sent over the fortnight before, moderated, the published ones
    answered; while the consultation is open the last one still waits for moderation. Only a
    request in the public register receives comments (its manufacturer consented to
    publication)."""
    if not request.consent_to_publication:
        return
    # Not every consultation draws the same comments: a closed one keeps two to four of them.
    still_open = data.get("still_open", False)
    comments = CONSULTATION_COMMENTS[: None if still_open else 2 + request.id % 3]
    last = len(comments) - 1
    for n, (author, text, decision, words) in enumerate(comments):
        sent_at = now - timedelta(days=14 - 2 * n)
        comment = submit_comment(
            request.id,
            CommentData(text=text, author_name=author, author_email=f"commento{n}@example.org"),
            now=sent_at,
        )
        if n == last and still_open:
            continue  # the agency has not moderated it yet
        reason = words if decision == "reject" else ""
        moderate_comment(agency, comment, decision, reason, now=sent_at + timedelta(days=1))
        if decision == "publish":
            answer_comment(agency, comment, words, now=sent_at + timedelta(days=3))
