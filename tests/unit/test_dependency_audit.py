"""CI's dependency audit (.ci/dependency_audit.py) reads pip-audit's JSON report: a known
vulnerability with a fixed version fails the step, one without a fix is a warning, and a report
where no package could be checked is "not checked", never a pass."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "dependency_audit.py"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answering(audit, monkeypatch, stdout: str, returncode: int = 1, stderr: str = ""):
    result = subprocess.CompletedProcess([], returncode, stdout=stdout, stderr=stderr)
    monkeypatch.setattr(audit, "run_pip_audit", lambda: result)


def vuln(name: str, fixes: list[str]) -> str:
    return json.dumps(
        {
            "dependencies": [
                {
                    "name": name,
                    "version": "1.0",
                    "vulns": [{"id": "PYSEC-1", "fix_versions": fixes}],
                },
                {"name": "ok", "version": "2", "vulns": []},
            ]
        }
    )


def test_a_vulnerability_with_a_fix_fails(audit, monkeypatch, capsys):
    answering(audit, monkeypatch, vuln("jinja2", ["3.1.3"]))
    assert audit.main() == 1
    assert "VULNERABLE: jinja2 1.0: PYSEC-1 (fixed in 3.1.3)" in capsys.readouterr().out


def test_a_vulnerability_without_a_fix_is_a_warning(audit, monkeypatch, capsys):
    answering(audit, monkeypatch, vuln("jinja2", []))
    assert audit.main() == 0
    assert "warning: jinja2 1.0: PYSEC-1 (no fixed version yet)" in capsys.readouterr().out


def test_nothing_checked_is_not_a_pass(audit, monkeypatch, capsys):
    answering(
        audit,
        monkeypatch,
        '{"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI"}]}',
        returncode=0,
    )
    assert audit.main() == audit.UNREACHABLE
    assert "NOT CHECKED" in capsys.readouterr().out


def test_an_unreachable_service_is_not_a_pass(audit, monkeypatch, capsys):
    answering(audit, monkeypatch, "", stderr="requests.exceptions.ConnectionError: timed out")
    assert audit.main() == audit.UNREACHABLE
    assert "NOT CHECKED" in capsys.readouterr().out
