"""Workflow actions done on this area's pages: the request page's workflow panel links there
instead of drawing the generic form (`app.requests.action_panel.register_action_page`).

- request_information: the compose page (numbered questions, each with a due date);
- answer_information: the open round's page (answers one by one, with files);
- resubmit: the open intake round's page, when the agency listed missing items (without one,
  the generic form).
"""

from __future__ import annotations

from flask import url_for

from app.documents import information as information_service
from app.domain import information_rules as rules
from app.requests.action_panel import register_action_page


def _compose_page(req) -> str:
    return url_for("documents.compose", request_id=req.id)


def _open_round_page(kind: str):
    def page(req) -> str | None:
        information_round = information_service.open_round(req.id, kind)
        if information_round is None:
            return None
        return url_for(
            "documents.information_round", request_id=req.id, number=information_round.number
        )

    return page


register_action_page("request", "request_information", _compose_page)
register_action_page("request", "answer_information", _open_round_page(rules.ASSESSMENT))
register_action_page("request", "resubmit", _open_round_page(rules.INTAKE))
