"""Evidence milestones: what a recommendation with evidence generation (or only in research)
asks for, the study or registry identifier, the IRCCS running it, the due date, and whether it
was delivered (with its document) or missed.

One new table, nothing else changes. Reviewed by hand; the downgrade drops it.

Revision ID: 8fc7c339841a
Revises: 7309e6844254 (reuse of assessments)
Create Date: 2026-12-03 07:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

import app.models.types



# revision identifiers, used by Alembic.
revision = '8fc7c339841a'
down_revision = '7309e6844254'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('id_kind', sa.String(length=12), nullable=False),
    sa.Column('study_id', sa.String(length=200), nullable=False),
    sa.Column('irccs_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', app.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("evidence != ''", name=op.f('ck_evidence_milestones_evidence_required')),
    sa.CheckConstraint("id_kind IN ('eu_ct', 'nct', 'eudamed_ci', 'registry')", name=op.f('ck_evidence_milestones_id_kind')),
    sa.CheckConstraint("status != 'delivered' OR document_id IS NOT NULL", name=op.f('ck_evidence_milestones_delivered_doc')),
    sa.CheckConstraint("status IN ('open', 'delivered', 'missed')", name=op.f('ck_evidence_milestones_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_evidence_milestones_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_evidence_milestones_document_id_documents'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['irccs_id'], ['organisations.id'], name=op.f('fk_evidence_milestones_irccs_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['device_requests.id'], name=op.f('fk_evidence_milestones_request_id_device_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_milestones'))
    )
    with op.batch_alter_table('evidence_milestones', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_milestones_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_milestones_request_id'), ['request_id'], unique=False)



def downgrade():
    with op.batch_alter_table('evidence_milestones', reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_milestones_request_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_milestones_due_on'))

    op.drop_table('evidence_milestones')
