"""Drawing the workflows from their definitions: Mermaid `stateDiagram-v2` text and a table.

Nothing here is written by hand per state: change `app.workflow.definitions` and the diagram
and the table follow. Each edge is labelled "trigger (roles)"; the many `resume` edges (one
per state a request can be suspended from) collapse into one note on `suspended`. State ids
are the plain snake_case codes (Mermaid breaks on spaces and dashes); the human labels are
attached with `state "Label" as code`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.workflow.spec import TransitionSpec, WorkflowSpec

# Triggers whose destination is "where the object came from": drawn as one note.
RETURN_TRIGGERS = frozenset({"resume"})

# A transition leaving this many states or more (withdraw, suspend) is drawn as a note on its
# destination instead of a fan of arrows that would tangle the whole diagram.
FAN_IN_THRESHOLD = 5

START_END = "[*]"
_UNSAFE_LABEL = re.compile(r'[:;#"{}<>\[\]|`]')
_STATE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def roles_text(roles) -> str:
    return ", ".join(sorted(roles))


# Conditions that pick between transitions sharing a trigger, as a word on the edge.
CONDITION_TEXTS = {"positive_outcome": "positive", "negative_outcome": "negative"}


def edge_label(spec: TransitionSpec, condition_texts: Mapping[str, str] | None = None) -> str:
    label = f"{spec.trigger} ({roles_text(spec.roles)})"
    texts = CONDITION_TEXTS if condition_texts is None else condition_texts
    if spec.condition and spec.condition in texts:
        label += f" {texts[spec.condition]}"
    return label


def _safe(text: str) -> str:
    """Text Mermaid accepts in a label (no statement separators, quotes or brackets)."""
    return " ".join(_UNSAFE_LABEL.sub(" ", str(text)).split())


def _check_state_id(state: str) -> str:
    if not _STATE_ID.match(state):
        raise ValueError(f"state id {state!r} is not a plain snake_case code")
    return state


def _internal_spread(spec: WorkflowSpec) -> dict[str, tuple[str, int]]:
    """Internal triggers declared from FAN_IN_THRESHOLD states or more: trigger -> (its first
    state, how many states)."""
    return {
        trigger: (sources[0], len(sources))
        for trigger in _noted(spec)
        for sources in [list(dict.fromkeys(s for t in spec.by_trigger(trigger) for s in t.sources))]
    }


def _noted(spec: WorkflowSpec) -> frozenset[str]:
    return frozenset(
        t.trigger
        for t in spec.transitions
        if t.internal
        and len({s for u in spec.by_trigger(t.trigger) for s in u.sources}) >= FAN_IN_THRESHOLD
    )


def final_states(spec: WorkflowSpec) -> list[str]:
    """States no transition leaves from (drawn with an arrow to the end marker); an internal
    transition stays, so it does not count (a declined record still gets barriers)."""
    sources = {source for t in spec.transitions if not t.internal for source in t.sources}
    return [state for state in spec.states if state not in sources]


def _return_notes(spec: WorkflowSpec, previous_state_text: str) -> list[str]:
    notes = []
    for trigger in RETURN_TRIGGERS:
        specs = spec.by_trigger(trigger)
        if not specs:
            continue
        roles = frozenset().union(*(s.roles for s in specs))
        for source in dict.fromkeys(src for s in specs for src in s.sources):
            text = _safe(f"{trigger} ({roles_text(roles)}) → {previous_state_text}")
            notes.append(f"    note right of {_check_state_id(source)} : {text}")
    return notes


def mermaid_state_diagram(
    spec: WorkflowSpec,
    *,
    state_labels: Mapping[str, str] | Callable[[str], str] | None = None,
    previous_state_text: str = "previous state",
    fan_in_text: Callable[[int], str] = lambda count: f"from {count} states",
    condition_texts: Mapping[str, str] | None = None,
    direction: str = "TB",
) -> str:
    """The Mermaid stateDiagram-v2 text of one workflow.

    `fan_in_text(count)` words the note that replaces a fan of arrows.
    """
    label_of = _labeller(state_labels)
    lines = ["stateDiagram-v2", f"    direction {direction}"]
    for state in spec.states:
        label = _safe(label_of(state))
        if label and label != state:
            lines.append(f'    state "{label}" as {_check_state_id(state)}')
    lines.append(f"    {START_END} --> {_check_state_id(spec.initial)}")
    seen: set[tuple[str, str, str]] = set()
    notes: list[str] = []
    spread = _internal_spread(spec)
    noted = frozenset(spread)
    for transition in spec.transitions:
        if transition.trigger in RETURN_TRIGGERS:
            continue
        label = _safe(edge_label(transition, condition_texts))
        if transition.trigger in spread:
            # An internal action available in many states (the adoption barriers): one note
            # on the first of them rather than a loop on each.
            first, count = spread.pop(transition.trigger)
            wording = _safe(fan_in_text(count))
            notes.append(f"    note right of {_check_state_id(first)} : {label} {wording}")
            continue
        if transition.trigger in noted:
            continue  # noted already
        if len(transition.sources) >= FAN_IN_THRESHOLD:
            wording = _safe(fan_in_text(len(transition.sources)))
            dest = _check_state_id(transition.dest)
            notes.append(f"    note left of {dest} : {label} {wording}")
            continue
        for source in transition.sources:
            dest = source if transition.internal else transition.dest
            edge = (source, dest, label)
            if edge in seen:
                continue
            seen.add(edge)
            lines.append(f"    {_check_state_id(source)} --> {_check_state_id(dest)} : {label}")
    lines += notes
    lines += _return_notes(spec, previous_state_text)
    lines += [f"    {_check_state_id(state)} --> {START_END}" for state in final_states(spec)]
    return "\n".join(lines) + "\n"


def _labeller(state_labels) -> Callable[[str], str]:
    if state_labels is None:
        return lambda state: state
    if callable(state_labels):
        return state_labels
    return lambda state: str(state_labels.get(state, state))


@dataclass(frozen=True)
class TransitionRow:
    """One row of the transitions table (returns to the previous state are merged)."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: back to the state it came from
    roles: tuple[str, ...]
    reason_required: bool
    fields: tuple[str, ...]
    internal: bool
    condition: str | None


def transition_rows(spec: WorkflowSpec) -> list[TransitionRow]:
    """The workflow's transitions in declaration order, one row per (trigger, destination)."""
    rows: list[TransitionRow] = []
    merged: set[str] = set()
    for t in spec.transitions:
        if t.trigger in RETURN_TRIGGERS:
            if t.trigger in merged:
                continue
            merged.add(t.trigger)
            specs = spec.by_trigger(t.trigger)
            sources = tuple(dict.fromkeys(s for x in specs for s in x.sources))
            roles = frozenset().union(*(x.roles for x in specs))
            rows.append(_row(t, sources=sources, dest=None, roles=roles, condition=None))
            continue
        rows.append(_row(t))
    return rows


def _row(t: TransitionSpec, *, sources=None, dest="", roles=None, condition="") -> TransitionRow:
    return TransitionRow(
        trigger=t.trigger,
        sources=t.sources if sources is None else sources,
        dest=t.dest if dest == "" else dest,
        roles=tuple(sorted(t.roles if roles is None else roles)),
        reason_required=t.reason_required,
        fields=tuple(f.name for f in t.fields),
        internal=t.internal,
        condition=t.condition if condition == "" else condition,
    )
