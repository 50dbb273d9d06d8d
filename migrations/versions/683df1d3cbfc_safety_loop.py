"""The safety loop: the adverse-event threshold the agency sets for a device and the safety
alerts raised to it (adverse-event rate over the threshold, CE certificate past expiry).

Two new tables, nothing else changes. Reviewed by hand; the downgrade drops them.

Revision ID: 683df1d3cbfc
Revises: 8fc7c339841a (evidence milestones)
Create Date: 2026-12-03 07:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

import app.models.types



# revision identifiers, used by Alembic.
revision = '683df1d3cbfc'
down_revision = '8fc7c339841a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safety_thresholds',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('per_100', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('per_100 > 0', name=op.f('ck_safety_thresholds_positive')),
    sa.ForeignKeyConstraint(['request_id'], ['device_requests.id'], name=op.f('fk_safety_thresholds_request_id_device_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_safety_thresholds_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_safety_thresholds'))
    )
    op.create_table('safety_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cause_key', sa.String(length=60), nullable=False),
    sa.Column('adoption_id', sa.Integer(), nullable=True),
    sa.Column('usage_report_id', sa.Integer(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=8, scale=2), nullable=True),
    sa.Column('threshold', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('raised_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('adverse_event_rate', 'ce_certificate')", name=op.f('ck_safety_alerts_kind')),
    sa.CheckConstraint("status IN ('open', 'suspended', 'dismissed')", name=op.f('ck_safety_alerts_status')),
    sa.ForeignKeyConstraint(['adoption_id'], ['adoptions.id'], name=op.f('fk_safety_alerts_adoption_id_adoptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_safety_alerts_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['device_requests.id'], name=op.f('fk_safety_alerts_request_id_device_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['usage_report_id'], ['usage_reports.id'], name=op.f('fk_safety_alerts_usage_report_id_usage_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_alerts')),
    sa.UniqueConstraint('cause_key', name=op.f('uq_safety_alerts_cause_key'))
    )
    with op.batch_alter_table('safety_alerts', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_alerts_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_alerts_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('safety_alerts', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_safety_alerts_request_id'))

    op.drop_table('safety_alerts')
    op.drop_table('safety_thresholds')
