"""Schemathesis against the served `/api/v1/openapi.json` of a real server (PostgreSQL), with a
token of each role: every phase (examples, coverage, fuzzing, stateful), positive and
negative data. No server error, and every answer as the document says (status, content type,
headers, schema). Bounded (a few examples per operation and phase), so it takes minutes.

The in-process property test (tests/integration/test_api_schemathesis.py) stays: it is fast
and runs with every `make test`; this one sees what only a served API shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
MAX_EXAMPLES = 2
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
ROLES = ("manufacturer", "agency", "assessor", "irccs")
# The coverage phase (boundary and invalid values of every parameter) makes most of the cases
# and does not depend on the role much: run it for the two roles that reach most operations.
ALL_PHASES = "examples,coverage,fuzzing,stateful"
PHASES = {"manufacturer": ALL_PHASES, "agency": ALL_PHASES}


@pytest.mark.parametrize("role", ROLES)
def test_the_served_api_answers_as_documented(pg_server, role, tmp_path):
    served = pg_server
    people = served.people()
    for state in ("draft", "intake_review", "assignment", "assessment"):
        served.seed.requests(people, state)
    person = getattr(people, role)
    report = tmp_path / "report.json"
    run = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{served.base_url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {person.token}",
            "--phases",
            PHASES.get(role, "examples,fuzzing,stateful"),
            "--mode",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--checks",
            CHECKS,
            "--seed",
            "20260310",
            "--generation-database",
            "none",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        cwd=tmp_path,  # schemathesis keeps a folder of its own in the working directory
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    tail = run.stdout[-6000:]
    print(f"schemathesis as {role}:\n{tail}")
    assert run.returncode == 0, tail
