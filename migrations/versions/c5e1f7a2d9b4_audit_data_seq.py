"""The audit chain head's `data_seq`: the position of the last entry that changed data a report
or a dashboard reads, so that signing in does not throw away every kept report.

The report pages, the home page's charts and the public adoption map key what they keep by the
data version (`app.reports_pages.queries.common.data_version`), which held the chain head's
`last_seq`: every sign-in, failed login, password change or API token writes an audit entry, so
every one of them made the next view of every report recompute (about 5 s for the agency's
adoption report at 100k requests). Entries about accounts (`user`, `api_token`) move `last_seq`
only; every other entry moves both.

The upgrade adds the column (NOT NULL, 0 by default) and sets it to `last_seq`, so the first
version after the upgrade is the one before it. The downgrade drops the column. Reviewed by hand.

Revision ID: c5e1f7a2d9b4
Revises: b8e5f1a3c7d2 (patient paths read model)
Create Date: 2026-12-03 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c5e1f7a2d9b4"
down_revision = "b8e5f1a3c7d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_chain_head") as batch:
        batch.add_column(sa.Column("data_seq", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE audit_chain_head SET data_seq = last_seq")


def downgrade():
    with op.batch_alter_table("audit_chain_head") as batch:
        batch.drop_column("data_seq")
