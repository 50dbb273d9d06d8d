"""Audit anchors: `flask audit anchor` records the chain head, the public register publishes
the anchors (page, JSON, Atom), and `flask audit verify --against-anchors` detects a history
rewritten consistently (every hash recomputed, so that the chain alone still verifies) by
someone with database access."""

from __future__ import annotations

import http.server
import json
import threading
import xml.etree.ElementTree as ET  # our own feed, not untrusted input
from functools import partial

import pytest
from sqlalchemy import select, text, update

from app.core.audit import ENTRY_COLUMNS, HEAD_ID
from app.core.audit_anchors import FEED_FORMAT
from app.domain.audit_chain import GENESIS_HASH, entry_hash
from app.extensions import db
from app.models import AuditAnchor, AuditChainHead, AuditEntry
from tests.workflow_support import make_cast, walk_to
from tests.workflow_support import no_area_hooks as no_area_hooks  # a fixture

pytestmark = pytest.mark.usefixtures("no_area_hooks")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def cast(make):
    people = make_cast(make)
    db.session.commit()
    return people


def walk_one(make, cast, state="assessment"):
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    walk_to(request, state, cast)
    db.session.commit()
    return request


def head() -> tuple[int, str]:
    row = db.session.get(AuditChainHead, HEAD_ID)
    db.session.refresh(row)
    return row.last_seq, row.last_hash


def append_only_trigger(enabled: bool) -> None:
    """On PostgreSQL the trail is append-only by trigger; a superuser can switch it off."""
    if db.engine.dialect.name == "postgresql":
        switch = "ENABLE" if enabled else "DISABLE"
        db.session.execute(
            text(f"ALTER TABLE audit_entries {switch} TRIGGER audit_entries_append_only")
        )


def rewrite_history(seq: int, reason: str) -> None:
    """What an attacker with database access does: change entry `seq` and recompute every
    hash after it, and the chain head, so that `flask audit verify` alone still passes."""
    append_only_trigger(False)
    rows = db.session.execute(select(*ENTRY_COLUMNS).order_by(AuditEntry.seq)).all()
    previous = GENESIS_HASH
    for row in rows:
        fields = row._asdict()
        fields.pop("hash")
        if fields["seq"] == seq:
            fields["reason"] = reason
        fields["prev_hash"] = previous
        new_hash = entry_hash(fields)
        db.session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == fields["seq"])
            .values(reason=fields["reason"], prev_hash=previous, hash=new_hash)
        )
        previous = new_hash
    db.session.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(last_hash=previous)
    )
    append_only_trigger(True)
    db.session.commit()


def test_anchor_records_the_chain_head_once_per_move(make, cast, runner):
    assert runner.invoke(args=["audit", "anchor"]).output.startswith("Nothing to anchor")

    walk_one(make, cast)
    first = runner.invoke(args=["audit", "anchor"])
    seq, chain_hash = head()
    assert first.exit_code == 0 and f"Anchored entry {seq}: {chain_hash}" in first.output
    again = runner.invoke(args=["audit", "anchor"])
    assert again.exit_code == 0 and "has not moved" in again.output

    walk_one(make, cast, "intake_review")
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    anchors = db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq)).all()
    assert [a.seq for a in anchors] == [seq, head()[0]]
    assert anchors[0].hash == chain_hash and anchors[0].anchored_at.tzinfo is not None


def test_the_register_publishes_the_anchors_as_page_json_and_atom(make, cast, runner, client):
    walk_one(make, cast)
    runner.invoke(args=["audit", "anchor"])
    seq, chain_hash = head()

    page = client.get("/register/anchors")
    assert page.status_code == 200
    assert chain_hash in page.get_data(as_text=True)
    assert f'id="entry-{seq}"' in page.get_data(as_text=True)

    published = client.get("/register/anchors.json")
    assert published.json["format"] == FEED_FORMAT
    assert [(a["seq"], a["hash"]) for a in published.json["anchors"]] == [(seq, chain_hash)]

    feed = ET.fromstring(client.get("/register/anchors.atom").data)  # noqa: S314
    (entry,) = feed.findall(f"{ATOM}entry")
    assert chain_hash in entry.find(f"{ATOM}summary").text


def test_a_rewritten_history_passes_the_chain_check_but_not_the_anchors(
    make, cast, runner, client, tmp_path
):
    walk_one(make, cast)
    runner.invoke(args=["audit", "anchor"])
    walk_one(make, cast, "intake_review")
    runner.invoke(args=["audit", "anchor"])
    saved = tmp_path / "anchors.json"
    saved.write_bytes(client.get("/register/anchors.json").data)
    ok = runner.invoke(args=["audit", "verify", "--against-anchors", str(saved)])
    assert ok.exit_code == 0, ok.output
    assert "2 published anchors match" in ok.output

    rewrite_history(2, "Nothing happened here.")

    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the chain alone is fooled
    caught = runner.invoke(args=["audit", "verify", "--against-anchors", str(saved)])
    assert caught.exit_code == 1
    assert "Anchor MISMATCH: entry" in caught.output and "rewritten" in caught.output


def test_verify_reads_the_anchors_from_the_registers_url(make, cast, runner, client, tmp_path):
    walk_one(make, cast)
    runner.invoke(args=["audit", "anchor"])
    (tmp_path / "anchors.json").write_bytes(client.get("/register/anchors.json").data)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/anchors.json"
        result = runner.invoke(args=["audit", "verify", "--against-anchors", url])
    finally:
        server.shutdown()
        server.server_close()

    assert result.exit_code == 0, result.output
    assert "1 published anchors match" in result.output


def test_anchor_refuses_a_broken_chain(make, cast, runner):
    walk_one(make, cast)
    append_only_trigger(False)
    db.session.execute(text("UPDATE audit_entries SET reason = 'edited' WHERE seq = 1"))
    append_only_trigger(True)
    db.session.commit()

    result = runner.invoke(args=["audit", "anchor"])

    assert result.exit_code != 0 and "not anchored" in result.output
    assert db.session.scalars(select(AuditAnchor)).all() == []


def test_an_anchor_of_entries_that_are_gone_is_reported(make, cast, runner, tmp_path):
    walk_one(make, cast)
    seq, _ = head()
    saved = tmp_path / "anchors.json"
    later = {"seq": seq + 40, "hash": "f" * 64, "anchored_at": "2026-12-01T00:00:00+00:00"}
    saved.write_text(json.dumps({"format": FEED_FORMAT, "anchors": [later]}))

    result = runner.invoke(args=["audit", "verify", "--against-anchors", str(saved)])

    assert result.exit_code == 1
    assert f"entry {seq + 40} was anchored and is gone" in result.output
