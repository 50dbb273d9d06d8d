"""The audit hash chain (pure): any edit, deletion or reordering is detected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.audit_chain import (
    GENESIS_HASH,
    ROW_FIELDS,
    canonical_bytes,
    check_chain,
    check_rows,
    entry_hash,
    jsonable,
    row_canonical,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def build_chain(length: int) -> list[dict]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, length + 1):
        entry = {
            "seq": seq,
            "occurred_at": T0 + timedelta(minutes=seq),
            "actor_id": 7,
            "actor_name": "agency@example.org",
            "actor_role": "agency",
            "actor_org_id": 2,
            "entity_type": "request",
            "entity_id": 40 + seq % 3,
            "request_id": 40 + seq % 3,
            "action": "admit",
            "from_state": "intake_review",
            "to_state": "awaiting_prioritisation",
            "reason": "",
            "data": {"missing_items": ["IFU"]},
            "changes": {},
            "ip": "192.0.2.1",
            "prev_hash": previous,
        }
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
        entries.append(entry)
    return entries


def test_an_untouched_chain_verifies():
    entries = build_chain(5)
    report = check_chain(entries, head_seq=5, head_hash=entries[-1]["hash"])
    assert report.ok and report.checked == 5


def test_an_empty_chain_verifies():
    assert check_chain([], head_seq=0).ok


def test_an_edited_entry_is_detected():
    entries = build_chain(5)
    entries[2]["reason"] = "I was never here"
    report = check_chain(entries)
    assert not report.ok and report.broken_seq == 3


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    entries = build_chain(5)
    entries[2]["to_state"] = "archived"
    entries[2]["hash"] = entry_hash(entries[2])
    report = check_chain(entries)
    assert not report.ok and report.broken_seq == 4


def test_a_deleted_entry_is_detected():
    entries = build_chain(5)
    del entries[1]
    report = check_chain(entries)
    assert not report.ok and report.broken_seq == 2


def test_deleting_the_last_entries_is_caught_by_the_chain_head():
    entries = build_chain(5)
    head_hash = entries[-1]["hash"]
    report = check_chain(entries[:3], head_seq=5, head_hash=head_hash)
    assert not report.ok and report.broken_seq == 4


def test_reordered_entries_are_detected():
    entries = build_chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    entries[1]["seq"], entries[2]["seq"] = 2, 3
    assert not check_chain(entries).ok


def test_the_hash_covers_every_field():
    entry = build_chain(1)[0]
    for name, value in [("ip", "198.51.100.9"), ("actor_id", 8), ("data", {"x": 1})]:
        assert entry_hash(entry | {name: value}) != entry["hash"]


def test_serialisation_is_stable_and_refuses_floats():
    entry = build_chain(1)[0]
    assert canonical_bytes(entry) == canonical_bytes(dict(reversed(list(entry.items()))))
    assert jsonable({"price": Decimal("1.50"), "tags": {"b", "a"}}) == {
        "price": "1.50",
        "tags": ["a", "b"],
    }
    with pytest.raises(TypeError):
        jsonable(1.5)


def test_naive_timestamps_are_refused():
    entry = build_chain(1)[0] | {"occurred_at": datetime(2026, 1, 1)}
    with pytest.raises(ValueError, match="timezone"):
        entry_hash(entry)


# --- The fast path over row tuples ---------------------------------------------------------


def as_row(entry: dict) -> tuple:
    """As the database gives it: the JSON columns as their stored text."""
    stored = entry | {"data": json.dumps(entry["data"]), "changes": json.dumps(entry["changes"])}
    return tuple(stored[name] for name in ROW_FIELDS)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"title": ["Old «name»", 'New "name"\n\ttab \\ slash \u2028 \x01']},
        {"b": {"z": 1, "a": [True, False, None, "x"]}, "a": "0.10"},
    ],
)
def test_row_hashes_are_the_canonical_hashes(changes):
    entry = build_chain(1)[0] | {
        "changes": changes,
        "reason": "Perché no: «dati» ☃ \U0001f600",
        "actor_id": None,
        "request_id": None,
        "from_state": None,
        "ip": None,
        "occurred_at": datetime(2026, 3, 2, 11, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
    }
    assert row_canonical(as_row(entry)) == canonical_bytes(entry)


def test_rows_give_the_same_verdicts_as_entries():
    entries = build_chain(5)
    assert check_rows(map(as_row, entries), head_seq=5, head_hash=entries[-1]["hash"]).ok
    broken = [dict(e) for e in entries]
    broken[2]["reason"] = "edited"
    missing = entries[:2] + entries[3:]
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    for chain in (broken, missing, swapped, entries[:3]):
        expected = check_chain(chain, head_seq=5, head_hash=entries[-1]["hash"])
        got = check_rows(map(as_row, chain), head_seq=5, head_hash=entries[-1]["hash"])
        assert got == expected
        assert not got.ok


def test_row_check_reports_progress():
    seen = []
    assert check_rows(map(as_row, build_chain(7)), progress=seen.append, every=3).ok
    assert seen == [3, 6]
