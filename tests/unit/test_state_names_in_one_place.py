"""State names are grouped only in the workflow table (`app/workflow/`), role names only in
`app/domain/roles.py`.

Every other module asks the table (`states_where(...)`, `facts(state)`) instead of listing
state names itself: a tuple, list or set of two or more state names outside `app/workflow/` is
a second copy of a rule that will drift. This test walks the source with `ast` (and the
templates with a regular expression) and names every such grouping by file and line.
Comparing with one state (`state == "draft"`) is allowed. Groups of roles likewise have one
home, `app.domain.roles`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.domain.vocab import Role
from app.workflow.definitions import ADOPTION_WORKFLOW, REIMBURSEMENT_WORKFLOW, REQUEST_WORKFLOW

APP_DIR = Path(__file__).resolve().parents[2] / "app"
WORKFLOW_DIR = APP_DIR / "workflow"
ROLES_MODULE = APP_DIR / "domain" / "roles.py"
STATE_NAMES = (
    frozenset(REQUEST_WORKFLOW.states)
    | frozenset(ADOPTION_WORKFLOW.states)
    | frozenset(REIMBURSEMENT_WORKFLOW.states)
)
ROLE_NAMES = frozenset(Role)

# A parenthesised or bracketed list made only of quoted strings, e.g. ('draft', "incomplete").
_QUOTED = r"""\s*(?:'[^'\n]*'|"[^"\n]*")\s*"""
TEMPLATE_LIST = re.compile(rf"[(\[](?:{_QUOTED},)+{_QUOTED},?\s*[)\]]")
QUOTED_WORD = re.compile(r"""['"]([^'"\n]*)['"]""")


def _python_sources() -> list[Path]:
    return [
        path
        for path in sorted(APP_DIR.rglob("*.py"))
        if WORKFLOW_DIR not in path.parents and "migrations" not in path.parts
    ]


def _names_in(node: ast.AST, vocabulary: frozenset[str]) -> list[str]:
    """The names of `vocabulary` among the direct elements of a tuple/list/set literal."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set):
        return []
    return [
        element.value
        for element in node.elts
        if isinstance(element, ast.Constant)
        and isinstance(element.value, str)
        and element.value in vocabulary
    ]


def groupings_in_python(
    source: str, vocabulary: frozenset[str] = STATE_NAMES
) -> list[tuple[int, list[str]]]:
    """(line, names) for each literal tuple/list/set, or frozenset/set/tuple call on a literal,
    that holds two or more names of `vocabulary` (state names by default)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        # A frozenset/set/tuple call on a literal is caught through the literal it is given.
        names = _names_in(node, vocabulary)
        if len(names) >= 2:
            found.append((node.lineno, names))
    return sorted(found)


def groupings_in_template(
    text: str, vocabulary: frozenset[str] = STATE_NAMES
) -> list[tuple[int, list[str]]]:
    found = []
    for match in TEMPLATE_LIST.finditer(text):
        names = [w for w in QUOTED_WORD.findall(match.group(0)) if w in vocabulary]
        if len(names) >= 2:
            found.append((text.count("\n", 0, match.start()) + 1, names))
    return found


def test_the_detector_sees_literals_calls_and_template_lists():
    source = (
        'A = frozenset({"draft", "incomplete"})\n'
        'B = ("appraisal", "consultation")\n'
        'ok = state == "draft"\n'
        'C = tuple(["in_use", "declined"])\n'
        'D = ("draft", "in_progress")\n'
    )
    assert [line for line, _ in groupings_in_python(source)] == [1, 2, 4]
    template = "{% if s in ('draft', \"incomplete\") %}\n{% if s == 'draft' %}\n{{ x(['a', 'b']) }}"
    assert groupings_in_template(template) == [(1, ["draft", "incomplete"])]


def test_no_module_outside_the_workflow_table_groups_state_names():
    offenders = []
    for path in _python_sources():
        for line, names in groupings_in_python(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(APP_DIR.parent)}:{line}: {', '.join(names)}")
    for path in sorted(APP_DIR.rglob("*.html")):
        for line, names in groupings_in_template(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(APP_DIR.parent)}:{line}: {', '.join(names)}")
    assert not offenders, (
        "State names grouped outside app/workflow/ (ask the table instead: "
        "app.workflow.facts.states_where / facts):\n" + "\n".join(offenders)
    )


def test_no_module_outside_app_domain_roles_groups_role_names():
    offenders = []
    for path in _python_sources():
        if path == ROLES_MODULE:
            continue
        for line, names in groupings_in_python(path.read_text(encoding="utf-8"), ROLE_NAMES):
            offenders.append(f"{path.relative_to(APP_DIR.parent)}:{line}: {', '.join(names)}")
    for path in sorted(APP_DIR.rglob("*.html")):
        for line, names in groupings_in_template(path.read_text(encoding="utf-8"), ROLE_NAMES):
            offenders.append(f"{path.relative_to(APP_DIR.parent)}:{line}: {', '.join(names)}")
    assert not offenders, (
        "Role names grouped outside app/domain/roles.py (name the group there):\n"
        + "\n".join(offenders)
    )
