"""Reuse of existing assessments: the prior assessments recorded on a request (ours, an EU
joint clinical assessment, another region's report) and the choice made for each Core Model
domain (adopted, adapted, redone).

Two new tables, nothing else changes. Reviewed by hand; the downgrade drops them.

Revision ID: 7309e6844254
Revises: 5b8e1d3a9f27 (IRCCS needs)
Create Date: 2026-12-03 07:04:16.232340

"""

import sqlalchemy as sa
from alembic import op

import app.models.types


# revision identifiers, used by Alembic.
revision = '7309e6844254'
down_revision = '5b8e1d3a9f27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('prior_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=300), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('source_request_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(source = 'ours' AND source_request_id IS NOT NULL) OR (source != 'ours' AND url != '')", name=op.f('ck_prior_assessments_located')),
    sa.CheckConstraint("reference != ''", name=op.f('ck_prior_assessments_reference_required')),
    sa.CheckConstraint("source IN ('ours', 'eu_jca', 'other_region')", name=op.f('ck_prior_assessments_source')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_prior_assessments_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['device_requests.id'], name=op.f('fk_prior_assessments_request_id_device_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_request_id'], ['device_requests.id'], name=op.f('fk_prior_assessments_source_request_id_device_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prior_assessments'))
    )
    with op.batch_alter_table('prior_assessments', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(batch_op.f('ix_prior_assessments_request_id'), ['request_id'], unique=False)

    op.create_table('domain_reuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('prior_assessment_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("choice IN ('adopted', 'adapted', 'redone')", name=op.f('ck_domain_reuses_choice')),
    sa.CheckConstraint("domain IN ('health_problem', 'technical_characteristics', 'safety', 'clinical_effectiveness', 'costs_economic_evaluation', 'ethical', 'organisational', 'patient_social', 'legal')", name=op.f('ck_domain_reuses_domain')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_domain_reuses_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['prior_assessment_id'], ['prior_assessments.id'], name=op.f('fk_domain_reuses_prior_assessment_id_prior_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['device_requests.id'], name=op.f('fk_domain_reuses_request_id_device_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_reuses')),
    sa.UniqueConstraint('request_id', 'domain', name=op.f('uq_domain_reuses_request_id'))
    )
    with op.batch_alter_table('domain_reuses', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(batch_op.f('ix_domain_reuses_prior_assessment_id'), ['prior_assessment_id'], unique=False)



def downgrade():
    with op.batch_alter_table('domain_reuses', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domain_reuses_prior_assessment_id'))

    op.drop_table('domain_reuses')
    with op.batch_alter_table('prior_assessments', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prior_assessments_request_id'))

    op.drop_table('prior_assessments')
