"""Designated centres: the IRCCS a recommendation with restrictions or with evidence
generation names (`designated_centres`), how they were chosen
(`recommendations.designation_criteria`), and the other IRCCS's requests to be added
(`designation_requests`).

Two new tables and one column with a server default (existing recommendations read "": they
name no centre, so every IRCCS keeps its adoption record, as before). Reviewed by hand; the
downgrade drops all three.

Revision ID: e5b2c9d4a1f3
Revises: d81c3a5e7f20 (consultation minimum)
Create Date: 2026-12-03 07:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "e5b2c9d4a1f3"
down_revision = "d81c3a5e7f20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "designated_centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("irccs_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["irccs_id"],
            ["organisations.id"],
            name=op.f("fk_designated_centres_irccs_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_designated_centres_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designated_centres")),
        sa.UniqueConstraint(
            "request_id", "irccs_id", name=op.f("uq_designated_centres_request_id")
        ),
    )
    with op.batch_alter_table("designated_centres", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_designated_centres_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "designation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("irccs_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'refused')",
            name=op.f("ck_designation_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["irccs_id"],
            ["organisations.id"],
            name=op.f("fk_designation_requests_irccs_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_designation_requests_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designation_requests")),
        sa.UniqueConstraint(
            "request_id", "irccs_id", name=op.f("uq_designation_requests_request_id")
        ),
    )
    with op.batch_alter_table("designation_requests", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_designation_requests_request_id"), ["request_id"], unique=False
        )
    # A plain ADD COLUMN (no table rebuild): recommendations are referenced by no table.
    with op.batch_alter_table("recommendations", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.add_column(
            sa.Column("designation_criteria", sa.Text(), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("recommendations", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_column("designation_criteria")
    with op.batch_alter_table("designation_requests", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f("ix_designation_requests_request_id"))
    op.drop_table("designation_requests")
    with op.batch_alter_table("designated_centres", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f("ix_designated_centres_request_id"))
    op.drop_table("designated_centres")
