"""Indexes for the pages at scale (issue 17): the request lists and the home page read the
latest changed requests per reader from an index instead of sorting the table, the public
register its newest submissions, and the work queue a request's open stage visit with its due
date; the agency's work queue walks a partial index of its states' open visits in due order,
and an IRCCS's queue its adoption records by state and by waiting time.

Only indexes are added; the downgrade drops them. Reviewed by hand.

Revision ID: e5b9c3a71f20
Revises: c4a7e2f19d05 (audit anchors)
Create Date: 2026-12-03 07:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5b9c3a71f20"
down_revision = "c4a7e2f19d05"
branch_labels = None
depends_on = None

OPEN_STAGE = sa.text("left_at IS NULL")
# The agency's queue states as of this revision (app.models.workflow.AGENCY_QUEUE_STATES).
AGENCY_QUEUE = sa.text(
    "left_at IS NULL AND state IN ('intake_review', 'awaiting_prioritisation', "
    "'prioritisation', 'assignment', 'appraisal', 'consultation', 'reassessment_due', "
    "'suspended')"
)
REQUEST_INDEXES = {
    "ix_device_requests_updated": ["updated_at", "id"],
    "ix_device_requests_manufacturer_updated": ["manufacturer_id", "updated_at", "id"],
    "ix_device_requests_body_updated": ["assigned_body_id", "updated_at", "id"],
    "ix_device_requests_body_state": ["assigned_body_id", "state", "id"],
    "ix_device_requests_submitted_id": ["submitted_at", "id"],
}

ADOPTION_INDEXES = {
    "ix_adoptions_irccs_state": ["irccs_id", "state"],
    "ix_adoptions_irccs_changed": ["irccs_id", "state_changed_at", "id"],
}


def upgrade():
    with op.batch_alter_table("device_requests", reflect_kwargs={"resolve_fks": False}) as batch_op:
        for name, columns in REQUEST_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("adoptions", reflect_kwargs={"resolve_fks": False}) as batch_op:
        for name, columns in ADOPTION_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("stage_records", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(
            "ix_stage_records_open_request",
            ["request_id", "due_at", "entered_at"],
            unique=False,
            sqlite_where=OPEN_STAGE,
            postgresql_where=OPEN_STAGE,
        )
        batch_op.create_index(
            "ix_stage_records_agency_queue",
            ["due_at", "entered_at", "request_id"],
            unique=False,
            sqlite_where=AGENCY_QUEUE,
            postgresql_where=AGENCY_QUEUE,
        )


def downgrade():
    with op.batch_alter_table("stage_records", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index("ix_stage_records_agency_queue")
        batch_op.drop_index("ix_stage_records_open_request")
    with op.batch_alter_table("adoptions", reflect_kwargs={"resolve_fks": False}) as batch_op:
        for name in reversed(ADOPTION_INDEXES):
            batch_op.drop_index(name)
    with op.batch_alter_table("device_requests", reflect_kwargs={"resolve_fks": False}) as batch_op:
        for name in reversed(REQUEST_INDEXES):
            batch_op.drop_index(name)
