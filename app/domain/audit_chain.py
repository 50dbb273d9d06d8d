"""The audit hash chain (pure): canonical serialisation, entry hashes, and chain checking.

Each entry's hash is SHA-256 over the canonical JSON of its content plus the previous entry's
hash; editing, deleting or reordering any entry breaks every hash after it. `check_chain` reads
entries one at a time (any iterable), so it verifies millions of entries in flat memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64

# The fields covered by the hash, in the order they are documented (the JSON sorts keys anyway).
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "actor_org_id",
    "entity_type",
    "entity_id",
    "request_id",
    "action",
    "from_state",
    "to_state",
    "reason",
    "data",
    "changes",
    "ip",
    "prev_hash",
)


def jsonable(value: Any) -> Any:
    """Turn data carried by an event into plain JSON values, stable across a database round trip.

    Decimals and dates become strings, sets become sorted lists, floats are refused (their text
    form is not stable enough to hash).
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in audit data; use Decimal or str")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def timestamp_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    content = {name: fields.get(name) for name in HASHED_FIELDS}
    content["occurred_at"] = timestamp_text(content["occurred_at"])
    content = jsonable(content)
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


def check_chain(
    entries: Iterable[Mapping[str, Any]], head_seq: int | None = None, head_hash: str | None = None
) -> ChainReport:
    """Check entries given in `seq` order. Reports the first broken one.

    `head_seq`/`head_hash` (the stored chain head) catch the deletion of the last entries.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in entries:
        seq = entry["seq"]
        if seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if entry["prev_hash"] != expected_prev:
            return ChainReport(False, checked, seq, "does not follow the previous entry")
        if entry_hash(entry) != entry["hash"]:
            return ChainReport(False, checked, seq, "content does not match its hash")
        expected_prev = entry["hash"]
        expected_seq += 1
        checked += 1
    if head_seq is not None and head_seq != checked:
        return ChainReport(False, checked, checked + 1, f"entries after {checked} are missing")
    if head_hash is not None and checked and head_hash != expected_prev:
        return ChainReport(False, checked, checked, "the last entry does not match the chain head")
    return ChainReport(True, checked)
