"""Notifications: the outbox/inbox rows, each user's email preferences and the reminder
settings per stage.

`notifications`: one row per recipient and event (kind, the request or adoption record it
links to, non-confidential `params`, `urgent`), read state for the inbox, and the email
delivery state of the worker (`email_status`, `email_next_at` lease/backoff, attempts, last
error, sent time). `dedup_key` is unique per user, so a reminder is written once. Indexes:
the inbox (user, created_at), the bell (user, partial on unread rows) and the worker's queue
(status, next_at, partial on the rows still to deliver).

`notification_preferences`: (user, kind) -> immediate | digest | off; no row: immediate.
`reminder_settings`: state -> working days before the due date (JSON list); no row: 7 and 2.

Reviewed by hand: new tables only, nothing to fill. The downgrade drops them.

Revision ID: 91530c3c13d3
Revises: 4f3230c8751b
Create Date: 2026-12-02 17:45:30.441413

"""

import sqlalchemy as sa
from alembic import op

import app.models.types  # the UTCDateTime column type

# revision identifiers, used by Alembic.
revision = "91530c3c13d3"
down_revision = "4f3230c8751b"
branch_labels = None
depends_on = None

REQUEST_STATES = (
    "'draft', 'intake_review', 'incomplete', 'awaiting_prioritisation', 'prioritisation', "
    "'assignment', 'assessment', 'information_requested', 'factual_accuracy_check', "
    "'appraisal', 'consultation', 'adoption_monitoring', 'reassessment_due', 'suspended', "
    "'inadmissible', 'not_prioritised', 'routed', 'not_recommended', 'discontinued', "
    "'withdrawn', 'archived'"
)
UNREAD = sa.text("read_at IS NULL")
EMAIL_DUE = sa.text("email_status IN ('pending', 'digest')")


def _utc():
    return app.models.types.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "reminder_settings",
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("days_before", sa.JSON(), nullable=False),
        sa.CheckConstraint(f"state IN ({REQUEST_STATES})", name=op.f("ck_reminder_settings_state")),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_reminder_settings")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "mode IN ('immediate', 'digest', 'off')", name=op.f("ck_notification_preferences_mode")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("adoption_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("dedup_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("read_at", _utc(), nullable=True),
        sa.Column("email_status", sa.String(length=10), nullable=False),
        sa.Column("email_next_at", _utc(), nullable=False),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("email_error", sa.Text(), nullable=False),
        sa.Column("email_sent_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "email_status IN ('pending', 'digest', 'sent', 'skipped', 'failed')",
            name=op.f("ck_notifications_email_status"),
        ),
        sa.ForeignKeyConstraint(
            ["adoption_id"],
            ["adoptions.id"],
            name=op.f("fk_notifications_adoption_id_adoptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_notifications_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "dedup_key", name="uq_notifications_user_dedup_key"),
    )
    op.create_index("ix_notifications_adoption_id", "notifications", ["adoption_id"])
    op.create_index("ix_notifications_request_id", "notifications", ["request_id"])
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id"],
        sqlite_where=UNREAD,
        postgresql_where=UNREAD,
    )
    op.create_index(
        "ix_notifications_email_due",
        "notifications",
        ["email_status", "email_next_at"],
        sqlite_where=EMAIL_DUE,
        postgresql_where=EMAIL_DUE,
    )


def downgrade():
    op.drop_index("ix_notifications_email_due", table_name="notifications")
    op.drop_index("ix_notifications_user_unread", table_name="notifications")
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.drop_index("ix_notifications_request_id", table_name="notifications")
    op.drop_index("ix_notifications_adoption_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_table("reminder_settings")
