"""Report figures shared between the app's processes: the `report_cache` table (one row per
kind of figures and key, with the data version they were computed at; see
app/models/report_cache.py).

A new table only. Reviewed by hand; the downgrade drops it (the processes then keep their
figures in memory only, as before).

Revision ID: a7d3e9c1b5f2
Revises: a7d4e9c2b6f1 (stage clock index)
Create Date: 2026-12-03 12:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "a7d3e9c1b5f2"
down_revision = "a7d4e9c2b6f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("stored_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_cache")),
    )


def downgrade():
    op.drop_table("report_cache")
