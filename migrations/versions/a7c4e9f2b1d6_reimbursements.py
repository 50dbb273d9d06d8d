"""Regional reimbursement: one `reimbursements` row per (published recommendation, region),
moved by the reimbursement workflow (requested, under evaluation, assigned / not needed /
refused) with its tariff (kind, code, amount, effective date) and its clock (requested,
decided, due). And the regional tariff's deadline key, "regional_tariff", allowed in
`deadline_settings` and `reminder_settings` (their state CHECKs widened).

A new table, and two CHECKs rewritten on tables no other table references (recreating them on
SQLite is safe). Reviewed by hand; the downgrade drops the table, deletes any setting of the
new key and puts the CHECKs back.

Revision ID: a7c4e9f2b1d6
Revises: b7d2e4f6a8c1 (adoption barriers)
Create Date: 2026-12-03 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "a7c4e9f2b1d6"
down_revision = "b7d2e4f6a8c1"
branch_labels = None
depends_on = None

REQUEST_STATES = (
    "'draft', 'intake_review', 'incomplete', 'awaiting_prioritisation', 'prioritisation', "
    "'assignment', 'assessment', 'information_requested', 'factual_accuracy_check', "
    "'appraisal', 'consultation', 'adoption_monitoring', 'reassessment_due', 'suspended', "
    "'inadmissible', 'not_prioritised', 'routed', 'not_recommended', 'discontinued', "
    "'withdrawn', 'archived'"
)
NEW_KEY = "regional_tariff"
STATES = "'requested', 'under_evaluation', 'assigned', 'not_needed', 'refused'"
REGIONS = "'piemonte', 'valle_d_aosta', 'lombardia', 'pa_bolzano', 'pa_trento', 'veneto', 'friuli_venezia_giulia', 'liguria', 'emilia_romagna', 'toscana', 'umbria', 'marche', 'lazio', 'abruzzo', 'molise', 'campania', 'puglia', 'basilicata', 'calabria', 'sicilia', 'sardegna'"  # noqa: E501
SETTINGS_TABLES = ("deadline_settings", "reminder_settings")


def _rewrite_state_check(table: str, states: str) -> None:
    name = op.f(f"ck_{table}_state")  # already the full name (no naming convention applied)
    with op.batch_alter_table(
        table, recreate="always", reflect_kwargs={"resolve_fks": False}
    ) as batch_op:
        batch_op.drop_constraint(name, type_="check")
        batch_op.create_check_constraint(name, sa.text(f"state IN ({states})"))


def upgrade():
    op.create_table(
        "reimbursements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("tariff_kind", sa.String(length=20), nullable=True),
        sa.Column("tariff_code", sa.String(length=40), nullable=True),
        sa.Column("tariff_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_reimbursements_state")),
        sa.CheckConstraint(f"region IN ({REGIONS})", name=op.f("ck_reimbursements_region")),
        sa.CheckConstraint(
            "tariff_kind IS NULL OR tariff_kind IN ('drg', 'outpatient')",
            name=op.f("ck_reimbursements_tariff_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_reimbursements_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["organisations.id"],
            name=op.f("fk_reimbursements_requested_by_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursements")),
        sa.UniqueConstraint("request_id", "region", name=op.f("uq_reimbursements_request_id")),
    )
    op.create_index(
        op.f("ix_reimbursements_request_id"), "reimbursements", ["request_id"], unique=False
    )
    op.create_index(
        "ix_reimbursements_region_state",
        "reimbursements",
        ["region", "state", "due_at"],
        unique=False,
    )
    for table in SETTINGS_TABLES:
        _rewrite_state_check(table, f"{REQUEST_STATES}, '{NEW_KEY}'")


def downgrade():
    for table in SETTINGS_TABLES:
        settings = sa.table(table, sa.column("state", sa.String))
        op.execute(sa.delete(settings).where(settings.c.state == NEW_KEY))
        _rewrite_state_check(table, REQUEST_STATES)
    op.drop_index("ix_reimbursements_region_state", table_name="reimbursements")
    op.drop_index(op.f("ix_reimbursements_request_id"), table_name="reimbursements")
    op.drop_table("reimbursements")
