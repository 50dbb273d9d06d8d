"""Adoption barriers: one `adoption_barriers` row per barrier an IRCCS records on its adoption
record (kind, description, owner, due date, status, escalation and resolution).

A new table only (no rebuild of `adoptions`); reviewed by hand; the downgrade drops it.

Revision ID: b7d2e4f6a8c1
Revises: f1a6c3d8e2b4 (procurements)
Create Date: 2026-12-03 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "b7d2e4f6a8c1"
down_revision = "f1a6c3d8e2b4"
branch_labels = None
depends_on = None

# The vocabularies as they are at this revision (app.workflow.states), frozen here.
KINDS = (
    "'no_budget', 'awaiting_tariff', 'infrastructure', 'training', 'clinical_consensus', "
    "'organisational', 'other'"
)
OWNERS = "'irccs', 'region', 'agency'"
STATUSES = "'open', 'escalated', 'resolved'"


def upgrade():
    op.create_table(
        "adoption_barriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalation_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), server_default="", nullable=False),
        sa.Column("overdue_notified_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_adoption_barriers_kind")),
        sa.CheckConstraint(f"owner IN ({OWNERS})", name=op.f("ck_adoption_barriers_owner")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_adoption_barriers_status")),
        sa.ForeignKeyConstraint(
            ["adoption_id"],
            ["adoptions.id"],
            name=op.f("fk_adoption_barriers_adoption_id_adoptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoption_barriers")),
    )
    op.create_index(
        op.f("ix_adoption_barriers_adoption_id"), "adoption_barriers", ["adoption_id"]
    )
    op.create_index(
        "ix_adoption_barriers_status_owner_due",
        "adoption_barriers",
        ["status", "owner", "due_date"],
    )


def downgrade():
    op.drop_index("ix_adoption_barriers_status_owner_due", table_name="adoption_barriers")
    op.drop_index(op.f("ix_adoption_barriers_adoption_id"), table_name="adoption_barriers")
    op.drop_table("adoption_barriers")
