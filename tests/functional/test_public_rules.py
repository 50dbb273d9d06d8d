"""The published rules page of the register (issue 13, item 6): anybody reads what intake
checks, the prioritisation criteria with their weights, the deadline of each stage and the
consultation minimum, as currently set: an administrator's change shows at once. Italian
and English."""

from __future__ import annotations

import re
from decimal import Decimal

from app.assessment.prioritisation import save_weights
from app.core.deadline_settings import save_deadline, save_minimum
from app.domain.prioritisation import WEIGHTED_CRITERIA
from app.extensions import db
from app.models.types import utcnow
from tests.functional.test_public_register import page, set_language


def _row(html: str, attribute: str, value: str) -> list[str]:
    row = html.split(f'<tr {attribute}="{value}">')[1].split("</tr>")[0]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in cells]


def test_anybody_reads_the_rules_from_the_registers_tabs(client):
    set_language(client, "en")
    assert 'href="/register/rules"' in page(client, "/register/")
    html = page(client, "/register/rules")
    # What intake checks: the submission's fields and the mandatory documents.
    assert "Intended purpose" in html and "Basic UDI-DI" in html
    documents = html.split('id="mandatory-documents"')[1].split("</ul>")[0]
    assert "Instructions for use" in documents and "CE certificate" in documents
    # The 12 criteria and the derived one, equal weights by default.
    assert html.count("data-criterion=") == len(WEIGHTED_CRITERIA) == 13
    assert _row(html, "data-criterion", "disease_severity") == ["Disease severity", "1", "7.7%"]
    assert _row(html, "data-state", "assessment") == ["Assessment", "90 days"]
    assert _row(html, "data-state", "regional_tariff") == [
        "Regional tariff (from the request to the decision)",
        "90 days",
    ]
    assert "at least 30 days" in html


def test_the_page_follows_the_settings_in_force(app, client, make):
    set_language(client, "en")
    admin = make.user("admin")
    weights = dict.fromkeys(WEIGHTED_CRITERIA, Decimal("1")) | {"unmet_need": Decimal("4")}
    save_weights(admin, weights, utcnow())
    save_deadline("assessment", 60, True, actor=admin, now=utcnow())
    save_minimum("consultation", 45, actor=admin, now=utcnow())
    app.config["MANDATORY_DOCUMENT_TYPES"] = ("study",)
    db.session.commit()
    html = page(client, "/register/rules")
    assert _row(html, "data-criterion", "unmet_need") == ["Unmet need", "4", "25.0%"]
    assert _row(html, "data-criterion", "disease_severity")[1:] == ["1", "6.2%"]
    assert _row(html, "data-state", "assessment") == ["Assessment", "60 working days"]
    assert "at least 45 days" in html
    documents = html.split('id="mandatory-documents"')[1].split("</ul>")[0]
    assert "Study" in documents and "CE certificate" not in documents


def test_the_rules_in_italian(client):
    set_language(client, "it")
    html = page(client, "/register/rules")
    assert "Regole pubblicate" in html
    assert "Criteri di priorità e loro pesi" in html
    assert "Gravità della malattia" in html
    assert "almeno 30 giorni" in html
    assert "Tariffa regionale (dalla richiesta alla decisione)" in html
