"""User sessions: one row per logged-in browser session, for the "Active sessions" page
(device, address, started, last seen) and for ending one session, or all but this one, on the
server (issue 12 item 4).

One new table, `user_sessions`, and nothing else changes. The cookie keeps a random key; the
row keeps its SHA-256 only (unique). Reviewed by hand; the downgrade drops the table (every
browser is then asked to log in again, since its session has no row).

Revision ID: e5b1d7a3c9f2
Revises: e5b81f04c2a7 (factual comment responses)
Create Date: 2026-12-03 07:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "e5b1d7a3c9f2"
down_revision = "e5b81f04c2a7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
