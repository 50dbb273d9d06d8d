"""What the timing report reads, kept at write time: stage visits keep their duration once
left, and each submitted request its spans (`request_timings`).

`stage_records` gains, for a left visit: `gross_days` (from entering to leaving, in days),
`gross_whole_days` (the same rounded down: the report's histogram bucket) and `left_late`
(left after its due date; NULL without one), all NULL while the visit is open, with a CHECK
that says so. Two indexes let the report read its stage figures from indexes alone: left
visits by (state, whole days, days, late, request) and open visits by (state, entered_at),
both covering.

`request_timings` holds one row per submitted request: submission to recommendation (gross,
net), to the last prioritisation decision, and the assessment days (or a flag while an
assessment visit is open again), each indexed so that percentiles are index walks.

Reviewed by hand: autogenerate only saw the columns, table and indexes. The upgrade fills
what is already there set-based, one statement each, with the arithmetic the report used
(julianday on SQLite, epoch seconds on PostgreSQL): first the left visits (their whole days
are the floor of the stored value itself, so a value and its bucket always agree), then the
requests' rows from their visits (the statement of `app.core.request_timings`, frozen
here). It adds the CHECK after the fill (SQLite: by recreating the table in batch mode) and
builds the indexes once the data is in. The downgrade removes all of it.

Revision ID: 4f3230c8751b
Revises: 77741f6d37a8
Create Date: 2026-11-25 22:58:44.903219

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4f3230c8751b"
down_revision = "77741f6d37a8"
branch_labels = None
depends_on = None

CHECK_NAME = "ck_stage_records_left_stage_timing"
CHECK = (
    "(left_at IS NULL AND gross_days IS NULL AND gross_whole_days IS NULL AND "
    "left_late IS NULL) OR (left_at IS NOT NULL AND gross_days IS NOT NULL AND "
    "gross_whole_days IS NOT NULL)"
)
OPEN_STAGE = sa.text("left_at IS NULL")
TIMING_INDEXES = ("e2e_gross_days", "e2e_net_days", "prioritisation_days", "assessment_days")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _days(start: str, end: str) -> str:
    """Days (fractional) from `start` to `end`, as the report works them out."""
    if _postgres():
        return f"(CAST(EXTRACT(EPOCH FROM {end} - {start}) AS DOUBLE PRECISION) / 86400)"
    return f"(julianday({end}) - julianday({start}))"


def _floor(value: str) -> str:
    if _postgres():
        return f"CAST(FLOOR({value}) AS INTEGER)"
    # SQLite's CAST truncates towards zero: one less for a negative value with a fraction.
    return f"(CAST({value} AS INTEGER) - ({value} < CAST({value} AS INTEGER)))"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _postgres() else f"MIN({a}, {b})"


def _fill_left_visits() -> None:
    days = _days("entered_at", "left_at")
    op.execute(
        f"""
        UPDATE stage_records
        SET gross_days = {days},
            gross_whole_days = {_floor(days)},
            left_late = CASE WHEN due_at IS NULL THEN NULL ELSE left_at > due_at END
        WHERE left_at IS NOT NULL
        """  # noqa: S608 (no input: column names and the dialect's day arithmetic)
    )


def _fill_request_timings() -> None:
    """One row per submitted request from its visits (see app.core.request_timings)."""
    false, true = ("FALSE", "TRUE") if _postgres() else ("0", "1")
    visit_end = _least("COALESCE(s.left_at, c.published_at)", "c.published_at")
    op.execute(
        f"""
        INSERT INTO request_timings (request_id, e2e_gross_days, e2e_net_days,
            prioritisation_days, assessment_days, assessment_open)
        SELECT r.id,
            {_days("r.submitted_at", "c.published_at")},
            CASE WHEN c.published_at IS NOT NULL THEN COALESCE(m.e2e_net, 0) END,
            {_days("r.submitted_at", "m.prioritised_at")},
            CASE WHEN m.done = 1 AND m.assessment_open = 0 THEN m.assessment_left END,
            CASE WHEN m.done = 1 AND m.assessment_open > 0 THEN {true} ELSE {false} END
        FROM device_requests r
        LEFT JOIN recommendations c ON c.request_id = r.id
        LEFT JOIN (
            SELECT s.request_id,
                SUM(CASE WHEN s.entered_at >= r.submitted_at
                        AND s.entered_at < c.published_at
                        AND s.state NOT IN
                            ('incomplete', 'information_requested', 'factual_accuracy_check')
                    THEN {_days("s.entered_at", visit_end)} ELSE 0 END) AS e2e_net,
                MAX(CASE WHEN s.state = 'prioritisation' AND s.left_at IS NOT NULL
                    THEN s.left_at END) AS prioritised_at,
                SUM(CASE WHEN s.state = 'assessment' AND s.left_at IS NOT NULL
                    THEN {_days("s.entered_at", "s.left_at")} ELSE 0 END) AS assessment_left,
                SUM(CASE WHEN s.state = 'assessment' AND s.left_at IS NULL
                    THEN 1 ELSE 0 END) AS assessment_open,
                MAX(CASE WHEN s.state IN ('factual_accuracy_check', 'appraisal', 'consultation')
                    THEN 1 ELSE 0 END) AS done
            FROM stage_records s
            JOIN device_requests r ON r.id = s.request_id
            LEFT JOIN recommendations c ON c.request_id = s.request_id
            GROUP BY s.request_id
        ) m ON m.request_id = r.id
        WHERE r.submitted_at IS NOT NULL
        """  # noqa: S608 (no input: column names and the dialect's day arithmetic)
    )


# SQLite's table copy reflects only the table itself: reflecting the tables its foreign keys
# point to (`users`) made SQLAlchemy warn that it skips the expression index
# uq_users_email_lower, which the copy never touches.
NO_REFERENCED_TABLES = {"resolve_fks": False}


def upgrade():
    with op.batch_alter_table(
        "stage_records", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.add_column(sa.Column("gross_days", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("gross_whole_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("left_late", sa.Boolean(), nullable=True))
    op.create_table(
        "request_timings",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("e2e_gross_days", sa.Float(), nullable=True),
        sa.Column("e2e_net_days", sa.Float(), nullable=True),
        sa.Column("prioritisation_days", sa.Float(), nullable=True),
        sa.Column("assessment_days", sa.Float(), nullable=True),
        sa.Column("assessment_open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["device_requests.id"],
            name=op.f("fk_request_timings_request_id_device_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_timings")),
    )

    _fill_left_visits()
    _fill_request_timings()

    if _postgres():
        op.create_check_constraint(op.f(CHECK_NAME), "stage_records", sa.text(CHECK))
    else:
        with op.batch_alter_table(
            "stage_records", recreate="always", reflect_kwargs=NO_REFERENCED_TABLES
        ) as batch_op:
            batch_op.create_check_constraint(op.f(CHECK_NAME), sa.text(CHECK))

    with op.batch_alter_table(
        "stage_records", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.create_index(
            "ix_stage_records_state_duration",
            ["state", "gross_whole_days", "gross_days", "left_late", "request_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_stage_records_open_state_entered",
            ["state", "entered_at", "due_at", "request_id", "left_at"],
            unique=False,
            sqlite_where=OPEN_STAGE,
            postgresql_where=OPEN_STAGE,
        )
    with op.batch_alter_table(
        "request_timings", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        for column in TIMING_INDEXES:
            batch_op.create_index(f"ix_request_timings_{column}", [column], unique=False)


def downgrade():
    with op.batch_alter_table(
        "request_timings", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        for column in reversed(TIMING_INDEXES):
            batch_op.drop_index(f"ix_request_timings_{column}")
    op.drop_table("request_timings")

    with op.batch_alter_table(
        "stage_records", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.drop_index("ix_stage_records_open_state_entered")
        batch_op.drop_index("ix_stage_records_state_duration")

    if _postgres():
        op.drop_constraint(op.f(CHECK_NAME), "stage_records", type_="check")
    else:
        with op.batch_alter_table(
            "stage_records", recreate="always", reflect_kwargs=NO_REFERENCED_TABLES
        ) as batch_op:
            batch_op.drop_constraint(op.f(CHECK_NAME), type_="check")

    with op.batch_alter_table(
        "stage_records", reflect_kwargs=NO_REFERENCED_TABLES
    ) as batch_op:
        batch_op.drop_column("left_late")
        batch_op.drop_column("gross_whole_days")
        batch_op.drop_column("gross_days")
