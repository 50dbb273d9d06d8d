"""Minimum consultation period: `deadline_settings.minimum_days`, the least calendar days a
stage must last before it may be left (the public consultation; 30 by default in the code,
0 for none, NULL for the default).

One nullable column and its CHECK, nothing else; existing rows keep NULL (the default
applies). Reviewed by hand; the downgrade drops the column (and the check with it).

Revision ID: d81c3a5e7f20
Revises: b2d94f6e1a38 (usage vigilance references)
Create Date: 2026-12-03 07:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d81c3a5e7f20"
down_revision = "b2d94f6e1a38"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_deadline_settings_minimum_days"
CHECK = "minimum_days IS NULL OR minimum_days >= 0"


def upgrade():
    # deadline_settings is referenced by no other table: recreating it on SQLite is safe.
    with op.batch_alter_table("deadline_settings", recreate="always", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.add_column(sa.Column("minimum_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(CHECK_NAME, sa.text(CHECK))


def downgrade():
    with op.batch_alter_table("deadline_settings", recreate="always", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_constraint(CHECK_NAME, type_="check")
        batch_op.drop_column("minimum_days")
