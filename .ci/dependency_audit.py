"""CI: known vulnerabilities in the installed dependencies (pip-audit).

Runs `pip-audit` on the packages installed in the project's venv (our own editable package
left out) and fails when a known vulnerability has a fixed version to move to; one without a
fix yet is printed as a warning (nothing to upgrade to), and so is every ignored id in
`IGNORED` with its reason. When the vulnerability service (PyPI's advisory data) cannot be
reached, or answers for none of the packages (a PyPI mirror without the per-release JSON makes
pip-audit skip every package as "not found on PyPI"), the step says so loudly and exits 3, so
`.ci/run` reports it as NOT CHECKED, never as passed. Packages skipped one by one are listed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
# Vulnerability id -> why it does not apply to us (none today).
IGNORED: dict[str, str] = {}
UNREACHABLE = 3
NETWORK_WORDS = ("connection", "timed out", "timeout", "resolve", "network", "unreachable")


def run_pip_audit() -> subprocess.CompletedProcess:
    command = [
        str(VENV_BIN / "pip-audit"),
        "--local",  # this venv's packages, not the system's
        "--skip-editable",  # hta-tracker itself is not on PyPI
        "--progress-spinner=off",
        "--format=json",
        *(f"--ignore-vuln={vuln_id}" for vuln_id in IGNORED),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)


def findings(report: dict) -> tuple[list[str], list[str]]:
    """(fixable, unfixed) as printable lines."""
    fixable, unfixed = [], []
    for package in report.get("dependencies", []):
        for vuln in package.get("vulns", []):
            line = f"{package['name']} {package.get('version', '?')}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed version yet)")
    return fixable, unfixed


def main() -> int:
    result = run_pip_audit()
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        report = None
    if report is None or (result.returncode != 0 and not report.get("dependencies")):
        error = (result.stderr or result.stdout).strip()
        if any(word in error.lower() for word in NETWORK_WORDS):
            print("!! pip-audit: the vulnerability service is unreachable; NOT CHECKED")
            print(error[-2000:])
            return UNREACHABLE
        print(error[-4000:])
        return 2
    dependencies = report.get("dependencies", [])
    skipped = [package for package in dependencies if "skip_reason" in package]
    if dependencies and len(skipped) == len(dependencies):
        print(f"!! pip-audit: no package could be checked ({skipped[0]['skip_reason']} ...)")
        print("!! the vulnerability service is unreachable from here; NOT CHECKED")
        return UNREACHABLE
    for package in skipped:
        print(f"warning: not checked: {package['skip_reason']}")
    for vuln_id, reason in IGNORED.items():
        print(f"pip-audit: ignoring {vuln_id}: {reason}")
    fixable, unfixed = findings(report)
    for line in unfixed:
        print(f"warning: {line}")
    for line in fixable:
        print(f"VULNERABLE: {line}")
    checked = len(dependencies) - len(skipped)
    print(f"pip-audit: {checked} packages checked, {len(fixable)} with a fix to apply")
    return 1 if fixable else 0


if __name__ == "__main__":
    sys.exit(main())
