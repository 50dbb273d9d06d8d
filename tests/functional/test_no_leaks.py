"""Nothing confidential reaches a reader who is not entitled to it, on any page, export or API
response.

One published request is filled with markers: every dossier field the manufacturer may mark
confidential (read from the field schema, so a new confidential field is covered without
touching this test) holds a distinct marker and is marked confidential; a confidential
document's title is a marker; every kind of internal audit entry (read from the redaction
rules), the party-only entries (questions and answers, factual comments) and each IRCCS's
usage reports and awarded procurement price carry markers, the figures distinctive numbers.
Then every GET route of the app that takes a request or an adoption record (read from the URL
map), plus the lists, reports and register pages, is fetched by every reader, and the text of
each answer (HTML, JSON, CSV, the PDF's text through pypdf, every XLSX cell through openpyxl)
is searched for the markers that reader may not see. Each group of markers is also found by a
reader entitled to it, so the test cannot pass because a page failed to render.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pypdf
import pytest

from app.adoption.usage import report_usage
from app.core import document_store
from app.core.audit import record_audit
from app.domain import redaction
from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS, FIELDS_BY_NAME, Kind
from app.extensions import db
from app.models import Document, DocumentVersion, EvidenceItem, Procurement
from tests.api_support import token_for
from tests.assessment_support import (
    declare,
    published_with_adoptions,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEPARATORS = re.compile(r"[\s,.'\u00a0\u202f]")
# Arguments a route may take that this test knows how to fill.
KNOWN_ARGUMENTS = {"request_id", "adoption_id", "document_id", "version", "number", "kind", "fmt"}
# Pages with no request data at all (the health probes answer about the server itself).
SKIPPED_ENDPOINTS = {
    "static",
    "api.docs",
    "api.openapi_json",
    "auth.login",
    "ops.healthz",
    "ops.readyz",
    "ops.metrics",
}


def normalised(text: str) -> str:
    """Lower case, without separators: "987,601.00" and "987 601" both contain "987601"."""
    return SEPARATORS.sub("", text).lower()


# --- the markers ------------------------------------------------------------------------------


class Markers:
    """Distinct markers by group: each group has its readers."""

    def __init__(self):
        self.fields: dict[str, str] = {}
        self.document: dict[str, str] = {}
        self.party_audit: dict[str, str] = {}
        self.internal_audit: dict[str, str] = {}
        self.own_usage: dict[str, str] = {}
        self.other_usage: dict[str, str] = {}
        self._next_number = 987601

    def number(self) -> int:
        self._next_number += 1
        return self._next_number

    def text(self, name: str) -> str:
        return f"qzx{name.replace('_', '')}qzx"


def _plant_fields(markers: Markers) -> dict:
    """A value per confidential-capable field, chosen by the field's kind."""
    values = {}
    for name in CONFIDENTIAL_CAPABLE_FIELDS:
        kind = FIELDS_BY_NAME[name].kind
        if kind in (Kind.TEXT, Kind.LINE):
            values[name] = markers.fields[name] = markers.text(name)
        elif kind is Kind.MONEY:
            number = markers.number()
            values[name] = Decimal(number)
            markers.fields[name] = str(number)
        elif kind is Kind.COUNT:
            number = markers.number() * 4  # its quarter (a quarter of it) is a marker too
            values[name] = number
            markers.fields[name] = str(number)
            markers.fields[f"{name} per quarter"] = str(number // 4)
        elif kind is Kind.ROWS and name == "evidence":
            reference = markers.fields[name] = markers.text(name)
            values[name] = [
                EvidenceItem(position=1, design="rct", patients=12, reference=reference)
            ]
        else:  # a new kind of field: teach this test how to plant a marker in it
            raise AssertionError(f"no marker for the {kind} field {name}")
    return values


@pytest.fixture
def planted(make, cast):
    markers = Markers()
    fields = _plant_fields(markers)
    request, (own, other) = published_with_adoptions(
        make, cast, confidential_fields=list(CONFIDENTIAL_CAPABLE_FIELDS), **fields
    )
    declare(request, cast.assessor)

    title = markers.document["title"] = markers.text("documenttitle")
    content = b"The study, as uploaded."
    sha256 = hashlib.sha256(content).hexdigest()
    stored = document_store.path_for(sha256)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(content)
    document = Document(request_id=request.id, doc_type="study", title=title, confidential=True)
    document.versions = [
        DocumentVersion(
            version=1,
            sha256=sha256,
            size=len(content),
            content_type="text/plain",
            original_filename="study.txt",
            uploaded_by_id=cast.manufacturer.id,
        )
    ]
    db.session.add(document)
    db.session.flush()
    record_audit(
        cast.manufacturer,
        entity_type="document",
        entity_id=document.id,
        request_id=request.id,
        action="document_uploaded",
        now=NOW,
        data={"title": title, "confidential": True},
    )

    # Party-only entries: questions and answers, factual comments.
    for action in ("request_information", "answer_information", "return_factual_comments"):
        marker = markers.party_audit[action] = markers.text(action)
        record_audit(
            cast.assessor,
            entity_type="request",
            entity_id=request.id,
            request_id=request.id,
            action=action,
            now=NOW,
            reason=marker,
            data={"text": marker},
        )
    # Internal entries: every entity and action the redaction rules keep internal.
    internal = [(entity, "edited") for entity in redaction.INTERNAL_AUDIT_ENTITIES] + [
        ("request", action) for action in redaction.INTERNAL_AUDIT_ACTIONS
    ]
    for entity_type, action in internal:
        marker = markers.internal_audit[f"{entity_type}:{action}"] = markers.text(
            entity_type + action
        )
        record_audit(
            cast.agency,
            entity_type=entity_type,
            entity_id=request.id,
            request_id=request.id,
            action=action,
            now=NOW,
            reason=marker,
            data={"note": marker},
        )

    # Each IRCCS's quarterly usage (its audit entries carry the figures too).
    for adoption, user, group in (
        (own, cast.irccs, markers.own_usage),
        (other, cast.other_irccs, markers.other_usage),
    ):
        figures = {name: markers.number() for name in ("units", "procedures", "adverse_events")}
        figures["spend"] = Decimal(markers.number())
        report_usage(user, adoption, {"year": 2025, "quarter": 1, **figures}, NOW)
        group.update({name: str(int(value)) for name, value in figures.items()})
        # Its awarded price (confidential like its spend), on the record and in the trail.
        price = Decimal(markers.number())
        db.session.add(
            Procurement(
                adoption_id=adoption.id, route="direct", awarded_price=price, started_at=NOW
            )
        )
        record_audit(
            user,
            entity_type="adoption",
            entity_id=adoption.id,
            request_id=request.id,
            action="record_award",
            now=NOW,
            data={"awarded_price": price},
        )
        group["awarded_price"] = str(int(price))
    db.session.commit()
    return request, own, other, document, markers


# --- fetching everything ------------------------------------------------------------------------


def _values_for(rule, values: dict) -> list[dict]:
    """Every way to fill the rule's arguments: `any(...)` arguments take each of their options."""
    filled = [{}]
    for name in rule.arguments:
        converter = rule._converters.get(name)
        options = getattr(converter, "items", None)
        choices = sorted(options) if options else [values[name]]
        filled = [dict(f, **{name: choice}) for f in filled for choice in choices]
    return filled


def reachable_urls(app, values: dict) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if not set(rule.arguments) <= KNOWN_ARGUMENTS:
            continue
        for arguments in _values_for(rule, values):
            urls.append(rule.build(arguments, append_unknown=False)[1])
    return sorted(set(urls))


def text_of(response) -> str:
    body = response.get_data()
    if body.startswith(b"%PDF"):
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    if body.startswith(b"PK") and zipfile.is_zipfile(io.BytesIO(body)):
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        try:
            return "\n".join(
                str(cell)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
                for cell in row
                if cell is not None
            )
        finally:
            book.close()
    return body.decode("utf-8", errors="replace")


def everything_seen_by(app, user, urls) -> dict[str, str]:
    """{url: normalised text} of every answer `user` (None: anonymous) gets."""
    client = app.test_client()
    headers = {}
    if user is not None:
        response = client.post(
            "/auth/login", data={"email": user.email, "password": "correct horse battery"}
        )
        assert response.status_code in (302, 303)
        headers = {"Authorization": f"Bearer {token_for(user)}"}
    seen = {}
    for url in urls:
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        assert response.status_code < 500, (url, response.status_code)
        seen[url] = normalised(text_of(response))
        response.close()
    return seen


def leaks(seen: dict[str, str], group: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (name, url)
        for url, text in seen.items()
        for name, marker in group.items()
        if normalised(marker) in text
    ]


def found(seen: dict[str, str], group: dict[str, str]) -> set[str]:
    return {
        name
        for name, marker in group.items()
        if any(normalised(marker) in t for t in seen.values())
    }


def test_no_reader_sees_what_is_not_theirs(app, cast, planted):
    request, own, other, document, markers = planted
    values = {
        "request_id": request.id,
        "adoption_id": own.id,
        "document_id": document.id,
        "version": 1,
        "number": 1,
    }
    urls = reachable_urls(app, values)
    urls += [u.replace(f"/{own.id}", f"/{other.id}") for u in urls if "adoption" in u]
    urls = sorted(set(urls))
    assert f"/reports/requests/{request.id}.pdf" in urls
    assert f"/api/v1/requests/{request.id}/audit" in urls

    seen = {name: everything_seen_by(app, user, urls) for name, user in _readers(cast).items()}

    # Positive controls: each group is visible to a reader entitled to it.
    assert found(seen["manufacturer"], markers.fields) == set(markers.fields)
    assert found(seen["manufacturer"], markers.document) == set(markers.document)
    assert found(seen["manufacturer"], markers.party_audit) == set(markers.party_audit)
    assert found(seen["agency"], markers.internal_audit) == set(markers.internal_audit)
    assert found(seen["irccs"], markers.own_usage) == set(markers.own_usage)

    not_a_party = ("other_manufacturer", "other_assessor", "irccs", "other_irccs", "anonymous")
    problems = {}
    for reader in not_a_party:
        for group in ("fields", "document", "party_audit", "internal_audit"):
            problems[(reader, group)] = leaks(seen[reader], getattr(markers, group))
    problems[("manufacturer", "internal_audit")] = leaks(
        seen["manufacturer"], markers.internal_audit
    )
    # Each IRCCS's figures: its own and the agency's business only.
    for reader in ("manufacturer", "assessor", *not_a_party):
        if reader != "irccs":
            problems[(reader, "own_usage")] = leaks(seen[reader], markers.own_usage)
        if reader != "other_irccs":
            problems[(reader, "other_usage")] = leaks(seen[reader], markers.other_usage)
    found_leaks = {key: found for key, found in problems.items() if found}
    assert not found_leaks, "\n".join(
        f"{key}: {sorted(set(found))}" for key, found in found_leaks.items()
    )


def _readers(cast) -> dict:
    return {
        "manufacturer": cast.manufacturer,
        "agency": cast.agency,
        "assessor": cast.assessor,
        "irccs": cast.irccs,
        "other_manufacturer": cast.other_manufacturer,
        "other_assessor": cast.other_assessor,
        "other_irccs": cast.other_irccs,
        "anonymous": None,
    }
