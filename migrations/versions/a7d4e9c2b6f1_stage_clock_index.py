"""Index of the stage visits by state and clock (issue 13, item 7): the timing report's net
days count the parts of clock stops the manufacturer handed back (clock_stopped false in a
clock-stop state), which are few; the index finds them without reading every clock-stop
visit.

Only an index is added; the downgrade drops it. Reviewed by hand.

Revision ID: a7d4e9c2b6f1
Revises: a7c4e9f2b1d6 (reimbursements)
Create Date: 2026-12-03 12:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a7d4e9c2b6f1"
down_revision = "a7c4e9f2b1d6"
branch_labels = None
depends_on = None

COLUMNS = ["state", "clock_stopped", "request_id", "gross_days", "entered_at"]


def upgrade():
    with op.batch_alter_table("stage_records", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index("ix_stage_records_state_clock", COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table("stage_records", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index("ix_stage_records_state_clock")
