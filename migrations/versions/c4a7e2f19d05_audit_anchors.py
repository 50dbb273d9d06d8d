"""Audit anchors: the chain head (sequence number and hash) recorded with a timestamp by
`flask audit anchor` and published on the public register, so that a rewrite of history by
anyone with database access is detected against what was published.

One new table, `audit_anchors`, and nothing else changes; each anchor's `seq` is unique (an
anchor is taken only when the head moved). Reviewed by hand; the downgrade drops the table
(the published copies of the anchors outlive it).

Revision ID: c4a7e2f19d05
Revises: 9c1e5a7d2b40 (security)
Create Date: 2026-12-02 18:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "c4a7e2f19d05"
down_revision = "9c1e5a7d2b40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("anchored_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_anchors_seq")),
    )


def downgrade():
    op.drop_table("audit_anchors")
