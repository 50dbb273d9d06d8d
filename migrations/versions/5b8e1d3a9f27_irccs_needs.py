"""IRCCS needs: unmet clinical needs, their endorsements and their links to requests; the
"declared need" prioritisation criterion may carry a weight.

Three new tables (`clinical_needs`, `need_endorsements`, `need_links`) and the check of
`priority_weights.criterion` widened to the derived criterion `declared_need`. Reviewed by
hand; the downgrade drops the tables, deletes a stored `declared_need` weight and restores
the former check.

Revision ID: 5b8e1d3a9f27
Revises: e5b1d7a3c9f2 (user sessions)
Create Date: 2026-12-03 07:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "5b8e1d3a9f27"
down_revision = "e5b1d7a3c9f2"
branch_labels = None
depends_on = None

SCORED = (
    "'disease_severity', 'population_size', 'unmet_need', 'clinical_benefit', 'safety_gain', "
    "'patient_reported_gain', 'evidence_quality', 'organisational_impact', 'budget_impact', "
    "'inappropriate_use_risk', 'degree_of_innovation', 'plan_fit'"
)


def _weights_check(criteria: str) -> None:
    with op.batch_alter_table("priority_weights", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_constraint(op.f("ck_priority_weights_criterion"), type_="check")
        batch_op.create_check_constraint(op.f("ck_priority_weights_criterion"), f"criterion IN ({criteria})")


def upgrade():
    op.create_table(
        "clinical_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("posted_by_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("population", sa.Text(), nullable=False),
        sa.Column("patients_per_year", sa.Integer(), nullable=False),
        sa.Column("standard_of_care", sa.Text(), nullable=False),
        sa.Column("gap", sa.Text(), nullable=False),
        sa.Column("posted_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("condition != ''", name=op.f("ck_clinical_needs_condition_required")),
        sa.CheckConstraint("gap != ''", name=op.f("ck_clinical_needs_gap_required")),
        sa.CheckConstraint(
            "patients_per_year BETWEEN 1 AND 10000000",
            name=op.f("ck_clinical_needs_patients_per_year_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_clinical_needs_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_id"],
            ["users.id"],
            name=op.f("fk_clinical_needs_posted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_needs")),
    )
    op.create_index(
        op.f("ix_clinical_needs_organisation_id"), "clinical_needs", ["organisation_id"]
    )
    op.create_index(op.f("ix_clinical_needs_posted_at"), "clinical_needs", ["posted_at"])
    op.create_table(
        "need_endorsements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("endorsed_by_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("endorsed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["clinical_needs.id"],
            name=op.f("fk_need_endorsements_need_id_clinical_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_need_endorsements_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["endorsed_by_id"],
            ["users.id"],
            name=op.f("fk_need_endorsements_endorsed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_endorsements")),
        sa.UniqueConstraint(
            "need_id", "organisation_id", name=op.f("uq_need_endorsements_need_id")
        ),
    )
    op.create_index(op.f("ix_need_endorsements_need_id"), "need_endorsements", ["need_id"])
    op.create_table(
        "need_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_need_links_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["clinical_needs.id"],
            name=op.f("fk_need_links_need_id_clinical_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"],
            ["users.id"],
            name=op.f("fk_need_links_linked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_links")),
        sa.UniqueConstraint("request_id", "need_id", name=op.f("uq_need_links_request_id")),
    )
    op.create_index(op.f("ix_need_links_request_id"), "need_links", ["request_id"])
    op.create_index(op.f("ix_need_links_need_id"), "need_links", ["need_id"])
    _weights_check(SCORED + ", 'declared_need'")


def downgrade():
    op.execute("DELETE FROM priority_weights WHERE criterion = 'declared_need'")
    _weights_check(SCORED)
    op.drop_index(op.f("ix_need_links_need_id"), table_name="need_links")
    op.drop_index(op.f("ix_need_links_request_id"), table_name="need_links")
    op.drop_table("need_links")
    op.drop_index(op.f("ix_need_endorsements_need_id"), table_name="need_endorsements")
    op.drop_table("need_endorsements")
    op.drop_index(op.f("ix_clinical_needs_posted_at"), table_name="clinical_needs")
    op.drop_index(op.f("ix_clinical_needs_organisation_id"), table_name="clinical_needs")
    op.drop_table("clinical_needs")
