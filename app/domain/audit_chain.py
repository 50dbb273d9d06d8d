"""The audit hash chain (pure): canonical serialisation, entry hashes, and chain checking.

Each entry's hash is SHA-256 over the canonical JSON of its content plus the previous entry's
hash; editing, deleting or reordering any entry breaks every hash after it. `check_chain` reads
entries one at a time (any iterable), so it verifies millions of entries in flat memory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
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
    return _end_of_chain(checked, expected_prev, head_seq, head_hash)


def _end_of_chain(
    checked: int, last_hash: str, head_seq: int | None, head_hash: str | None
) -> ChainReport:
    if head_seq is not None and head_seq != checked:
        return ChainReport(False, checked, checked + 1, f"entries after {checked} are missing")
    if head_hash is not None and checked and head_hash != last_hash:
        return ChainReport(False, checked, checked, "the last entry does not match the chain head")
    return ChainReport(True, checked)


# --- The fast path: rows read back from the database -----------------------------------------
#
# `canonical_bytes` is the definition; it walks every value through `jsonable` and builds a dict
# per entry, about 10k entries a second. Values read back from the audit table are already
# plain JSON values (the JSON columns hold only what `jsonable` produced, the other columns are
# ints, strings and NULLs), so the same text can be written straight from a row tuple: the
# top-level keys in sorted order, strings through json's own C escaper. The two JSON columns
# come as their stored text (decoding them in the driver costs more than everything else):
# `{}`, most entries' `changes`, is written as is, anything else parsed and re-encoded the
# canonical way. tests/unit/test_audit_chain.py checks both paths give the same bytes.

# The order of a row given to `row_canonical` / `check_rows`; `data` and `changes` as JSON text,
# `occurred_at` aware or naive UTC.
ROW_FIELDS = ("hash", *HASHED_FIELDS)

_escape = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for str
_encode_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
).encode
_decode_json = json.loads


def _time_text(moment: datetime) -> str:
    """`timestamp_text` for a UTC time read back from the table (naive means UTC there)."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_text(text: str | None) -> str:
    """A JSON column's stored text in canonical form."""
    if text == "{}":
        return text
    if text is None:
        return "null"
    return _encode_json(_decode_json(text))


def row_canonical(row: tuple) -> bytes:
    """`canonical_bytes` of a row in `ROW_FIELDS` order (its first item, the hash, unused)."""
    (
        _hash,
        seq,
        occurred_at,
        actor_id,
        actor_name,
        actor_role,
        actor_org_id,
        entity_type,
        entity_id,
        request_id,
        action,
        from_state,
        to_state,
        reason,
        data,
        changes,
        ip,
        prev_hash,
    ) = row
    if type(occurred_at) is not str:
        occurred_at = _time_text(occurred_at)
    # Columns NOT NULL in the table are written without a None test; ints as their digits.
    e = _escape
    return (
        f'{{"action":{e(action)},'
        f'"actor_id":{"null" if actor_id is None else actor_id},'
        f'"actor_name":{e(actor_name)},'
        f'"actor_org_id":{"null" if actor_org_id is None else actor_org_id},'
        f'"actor_role":{e(actor_role)},'
        f'"changes":{_json_text(changes)},"data":{_json_text(data)},'
        f'"entity_id":{entity_id},"entity_type":{e(entity_type)},'
        f'"from_state":{"null" if from_state is None else e(from_state)},'
        f'"ip":{"null" if ip is None else e(ip)},'
        f'"occurred_at":"{occurred_at}","prev_hash":{e(prev_hash)},'
        f'"reason":{e(reason)},"request_id":{"null" if request_id is None else request_id},'
        f'"seq":{seq},"to_state":{"null" if to_state is None else e(to_state)}}}'
    ).encode()


def check_rows(
    rows: Iterable[tuple],
    head_seq: int | None = None,
    head_hash: str | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 50_000,
) -> ChainReport:
    """`check_chain` over row tuples in `ROW_FIELDS` order (same verdicts, same messages);
    `progress(checked)` is called every `every` entries."""
    expected_prev = GENESIS_HASH
    checked = 0
    sha256 = hashlib.sha256
    canonical = row_canonical
    for row in rows:
        seq = row[1]
        if seq != checked + 1:
            return ChainReport(False, checked, checked + 1, f"entry {checked + 1} is missing")
        if row[17] != expected_prev:
            return ChainReport(False, checked, seq, "does not follow the previous entry")
        expected_prev = row[0]
        if sha256(canonical(row)).hexdigest() != expected_prev:
            return ChainReport(False, checked, seq, "content does not match its hash")
        checked = seq
        if progress is not None and not checked % every:
            progress(checked)
    return _end_of_chain(checked, expected_prev, head_seq, head_hash)
