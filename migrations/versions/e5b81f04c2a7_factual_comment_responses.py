"""Factual-accuracy comments get the assessor's response: accepted or not accepted, with a
reply the manufacturer reads (issue 16).

Four nullable columns on `factual_comments` (existing comments simply have no response yet)
and a CHECK on the response's values. Reviewed by hand; the downgrade drops them (the replies
are lost; the audit trail keeps each one).

Revision ID: e5b81f04c2a7
Revises: e5b9c3a71f20 (page indexes)
Create Date: 2026-12-03 07:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "e5b81f04c2a7"
down_revision = "e5b9c3a71f20"
branch_labels = None
depends_on = None


# On SQLite the batch copy reflects only `factual_comments`, not the tables its foreign keys
# point to: reflecting `users` made SQLAlchemy warn about its expression index.
NO_REFERENCED_TABLES = {"resolve_fks": False}


def upgrade():
    with op.batch_alter_table(
        "factual_comments", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.add_column(sa.Column("response", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("replied_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("replied_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_factual_comments_replied_by_id_users"),
            "users",
            ["replied_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_factual_comments_response"),
            "response IS NULL OR response IN ('accepted', 'not_accepted')",
        )


def downgrade():
    with op.batch_alter_table(
        "factual_comments", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_factual_comments_response"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_factual_comments_replied_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("replied_at")
        batch_op.drop_column("replied_by_id")
        batch_op.drop_column("reply")
        batch_op.drop_column("response")
