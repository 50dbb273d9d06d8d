"""Vigilance references on quarterly usage reports: the manufacturer's field safety notice
number and the competent authority's reference of the quarter's adverse events.

Two new columns of `usage_reports`, empty by default (existing reports have none). Reviewed by
hand; the downgrade drops them.

Revision ID: b2d94f6e1a38
Revises: 683df1d3cbfc (safety loop)
Create Date: 2026-12-03 07:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d94f6e1a38"
down_revision = "683df1d3cbfc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("usage_reports", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.add_column(
            sa.Column("fsn_number", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "authority_reference", sa.String(length=100), server_default="", nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("usage_reports", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_column("authority_reference")
        batch_op.drop_column("fsn_number")
