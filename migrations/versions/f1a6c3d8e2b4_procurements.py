"""Procurement of an adopted device: one `procurements` row per adoption record (route, CIG,
call and award dates, awarded price, supplier, when it started).

A new table only (no rebuild of `adoptions`, whose children cascade). Reviewed by hand; the
downgrade drops it.

Revision ID: f1a6c3d8e2b4
Revises: e5b2c9d4a1f3 (designated centres)
Create Date: 2026-12-03 08:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "f1a6c3d8e2b4"
down_revision = "e5b2c9d4a1f3"
branch_labels = None
depends_on = None

ROUTES = "'central_purchasing_body', 'regional_aggregator', 'direct', 'pre_commercial'"


def upgrade():
    op.create_table(
        "procurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("cig", sa.String(length=10), nullable=True),
        sa.Column("call_date", sa.Date(), nullable=True),
        sa.Column("award_date", sa.Date(), nullable=True),
        sa.Column("awarded_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("supplier", sa.String(length=500), server_default="", nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"route IN ({ROUTES})", name=op.f("ck_procurements_route")),
        sa.ForeignKeyConstraint(
            ["adoption_id"],
            ["adoptions.id"],
            name=op.f("fk_procurements_adoption_id_adoptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurements")),
        sa.UniqueConstraint("adoption_id", name=op.f("uq_procurements_adoption_id")),
    )


def downgrade():
    op.drop_table("procurements")
