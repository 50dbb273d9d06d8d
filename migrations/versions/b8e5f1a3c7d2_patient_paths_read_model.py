"""The read model of the paths to the first patient (`patient_paths`, issue 13 item 5 at the
sizes of issue 17): one row per adoption record of a published recommendation, with the days
per stage holder, the total and the days from publication once the path reached the first
patient, and what the reports filter on (request, IRCCS, region, publication, first use).

The upgrade creates the table and fills it from the data already there with the app's own
rebuild (`app.adoption.path_store.rebuild_patient_paths`: the path rule is Python,
`app.reports.time_to_patient`, and has no SQL twin to freeze here); the CHECK says an open
path stores no days. The downgrade drops the table. Reviewed by hand.

Revision ID: b8e5f1a3c7d2
Revises: a7d3e9c1b5f2 (report cache)
Create Date: 2026-12-03 13:35:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "b8e5f1a3c7d2"
down_revision = "a7d3e9c1b5f2"
branch_labels = None
depends_on = None

HOLDERS = (
    "manufacturer",
    "agency",
    "regional_body",
    "committee",
    "irccs",
    "procurement",
    "region",
)


def upgrade():
    op.create_table(
        "patient_paths",
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("irccs_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("first_use_at", UTCDateTime(), nullable=True),
        sa.Column("reached", sa.Boolean(), nullable=False),
        *[sa.Column(f"{holder}_days", sa.Float(), nullable=True) for holder in HOLDERS],
        sa.Column("total_days", sa.Float(), nullable=True),
        sa.Column("from_publication_days", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "reached OR (total_days IS NULL AND from_publication_days IS NULL)",
            name=op.f("ck_patient_paths_open_has_no_days"),
        ),
        sa.ForeignKeyConstraint(
            ["adoption_id"],
            ["adoptions.id"],
            name=op.f("fk_patient_paths_adoption_id_adoptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_patient_paths_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["irccs_id"],
            ["organisations.id"],
            name=op.f("fk_patient_paths_irccs_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("adoption_id", name=op.f("pk_patient_paths")),
    )
    from app.adoption.path_store import rebuild_patient_paths

    rebuild_patient_paths(connection=op.get_bind())
    op.create_index(
        "ix_patient_paths_request_reached", "patient_paths", ["request_id", "reached"]
    )


def downgrade():
    op.drop_index("ix_patient_paths_request_reached", table_name="patient_paths")
    op.drop_table("patient_paths")
