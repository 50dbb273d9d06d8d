"""Property-based tests of the API against its own OpenAPI document (Schemathesis).

For every operation, Schemathesis generates a few valid requests (positive data only; the
explicit refusals are tested in tests/functional/test_api_*.py) and sends them to the Flask
app in-process (WSGI), with the token of a seeded manufacturer. Every response must be free
of server errors and conform to the document: a documented status, its content type, its
schema and headers. Bounded: a handful of examples per operation.
"""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import openapi_document
from app.documents.operations import DocumentMeta, upload_document
from app.extensions import db
from tests.api_support import NOW, token_for
from tests.document_support import pdf_bytes

MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class _Upload:
    def __init__(self, name: str, data: bytes):
        self.filename = name
        self.stream = io.BytesIO(data)


def _seed(make) -> str:
    """A manufacturer with a draft, a submitted request and a document; its token."""
    user = make.user("manufacturer")
    draft = make.request(manufacturer=user.organisation, complete=True)
    make.request(manufacturer=user.organisation, state="intake_review")
    upload_document(
        user,
        draft.id,
        _Upload("ifu.pdf", pdf_bytes()),
        DocumentMeta(doc_type="instructions_for_use", title="IFU"),
        NOW,
    )
    db.session.commit()
    return token_for(user)


CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# The document is generated from the code, so it is known without a running app.
SCHEMA = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_as_documented(app, make, label):
    app.config["API_RATE_LIMIT"] = ""  # hundreds of requests from one token
    headers = {"Authorization": f"Bearer {_seed(make)}"}

    @given(case=OPERATIONS[label].as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def each_case(case):
        case.call_and_validate(app=app, headers=headers, checks=CHECKS)

    each_case()


def test_the_document_is_valid_openapi_3_1(app):
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    document = openapi_document()
    errors = [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []
