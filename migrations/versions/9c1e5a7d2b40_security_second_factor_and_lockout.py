"""Security: second factor (TOTP), recovery codes, remembered devices, login lockout.

`users` gains `totp_secret` (the confirmed TOTP secret), `totp_enabled_at`, `totp_last_step`
(the last accepted time step: a code works once), `remembered_devices_generation` (part of the
signed remembered-device cookie; bumping it forgets every remembered device), `locked_until`
(temporary lockout after repeated failed logins) and `lockout_notice_at` (the owner is told at
the next login). `recovery_codes` holds each user's single-use recovery codes, hashed.

Reviewed by hand: new nullable columns, one with a server default so existing rows get 0; a new
table with its index. `users` is altered in place (ADD/DROP COLUMN, SQLite 3.35+ included), never
copied, so that its expression index survives. The downgrade removes all of it.

Revision ID: 9c1e5a7d2b40
Revises: 91530c3c13d3 (notifications)
Create Date: 2026-12-02 18:00:00

"""

import sqlalchemy as sa
from alembic import op

from app.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "9c1e5a7d2b40"
down_revision = "91530c3c13d3"
branch_labels = None
depends_on = None


USER_COLUMNS = (
    "totp_secret",
    "totp_enabled_at",
    "totp_last_step",
    "remembered_devices_generation",
    "locked_until",
    "lockout_notice_at",
)


def upgrade():
    # Plain ALTER TABLE ... ADD COLUMN on both databases (no batch copy of `users`).
    op.add_column("users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "remembered_devices_generation", sa.Integer(), nullable=False, server_default="0"
        ),
    )
    op.add_column("users", sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        "users", sa.Column("lockout_notice_at", UTCDateTime(timezone=True), nullable=True)
    )

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("recovery_codes", reflect_kwargs={"resolve_fks": False}) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")

    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy of `users`: the copy
    # would lose the expression index uq_users_email_lower (reflection cannot see it).
    for column in USER_COLUMNS[::-1]:
        op.drop_column("users", column)
