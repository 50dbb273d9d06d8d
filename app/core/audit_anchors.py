"""Audit anchors: the chain head published, so that history cannot be rewritten unseen.

Anyone with write access to the database could rewrite the audit trail and recompute every
hash after the change: the chain would still verify. What they cannot change is a copy of the
chain head already published elsewhere. `anchor_chain_head` (run daily by `flask audit
anchor`) records the head's sequence number and hash with a timestamp; the public register
lists the anchors (page, JSON, Atom), so that readers, archives or a notary keep copies.
`check_against_anchors` compares a database with published anchors: every anchored position
must still hold the very hash published, and the chain must still reach past it.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from app.core.audit import HEAD_ID, verify_chain
from app.domain.audit_chain import ChainReport
from app.extensions import db
from app.models import AuditAnchor, AuditChainHead, AuditEntry

FEED_FORMAT = "hta-audit-anchors/1"


class AnchorRefused(RuntimeError):
    """The chain is broken: anchoring it would publish a broken history as good."""


@dataclass
class AnchorCheck:
    chain: ChainReport
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.mismatches


def anchor_chain_head(now: datetime) -> AuditAnchor | None:
    """Record the current chain head (after verifying the whole chain); None when the head
    has not moved since the last anchor. Flushes; the caller commits."""
    report = verify_chain()
    if not report.ok:
        raise AnchorRefused(f"audit chain broken at entry {report.broken_seq}: {report.problem}")
    head = db.session.get(AuditChainHead, HEAD_ID)
    if head is None or head.last_seq == 0:
        return None
    latest = db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc())).first()
    if latest is not None and latest.seq == head.last_seq:
        return None
    anchor = AuditAnchor(seq=head.last_seq, hash=head.last_hash, anchored_at=now)
    db.session.add(anchor)
    db.session.flush()
    return anchor


def published_anchors() -> list[AuditAnchor]:
    """Every anchor, newest first."""
    return list(db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc())))


def anchors_document(anchors: list[AuditAnchor]) -> dict:
    """The JSON the register publishes, and `check_against_anchors` reads back."""
    return {
        "format": FEED_FORMAT,
        "anchors": [
            {"seq": a.seq, "hash": a.hash, "anchored_at": a.anchored_at.isoformat()}
            for a in anchors
        ],
    }


def load_published(source: str, timeout: float = 30) -> list[dict]:
    """The anchors published at `source`: an http(s) URL of the register's JSON, or a file
    (a saved copy of it)."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=timeout) as answer:  # noqa: S310 (http(s) only, checked above)
            document = json.load(answer)
    else:
        document = json.loads(Path(source).read_text())
    if document.get("format") != FEED_FORMAT:
        raise ValueError(f"{source} is not a list of audit anchors ({FEED_FORMAT})")
    return [{"seq": int(a["seq"]), "hash": str(a["hash"])} for a in document["anchors"]]


def check_against_anchors(published: list[dict]) -> AnchorCheck:
    """The chain verified, and every published anchor found as published."""
    result = AnchorCheck(chain=verify_chain())
    by_seq = {anchor["seq"]: anchor["hash"] for anchor in published}
    rows = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(by_seq))
    )
    found = dict(rows.all())
    for seq in sorted(by_seq):
        result.checked += 1
        if seq not in found:
            result.mismatches.append(f"entry {seq} was anchored and is gone")
        elif found[seq] != by_seq[seq]:
            result.mismatches.append(
                f"entry {seq} differs from its anchor: history was rewritten up to it"
            )
    return result
