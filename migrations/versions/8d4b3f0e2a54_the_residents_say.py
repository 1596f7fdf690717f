"""The resident's say: feedback on resolved reports, withdrawn reports, rejected wishes sent again

Revision ID: 8d4b3f0e2a54
Revises: 5a1e0c7b9d21
Create Date: 2026-12-02 12:30:00

A new table (event_feedback) and three check constraints widened by hand (autogenerate does not see a
check's text change): an event may be `withdrawn`, its history may say `withdraw` and `not_fixed`, a wish's
history `resubmit`. SQLite cannot alter a constraint: batch mode rebuilds those tables.
"""

import sqlalchemy as sa
from alembic import op

revision = "8d4b3f0e2a54"
down_revision = "5a1e0c7b9d21"
branch_labels = None
depends_on = None

EVENT_STATUSES = ["reported", "accepted", "in_progress", "resolved", "verified", "closed", "archived"]
EVENT_ACTIONS = [
    "report",
    "accept",
    "start",
    "escalate",
    "auto_escalate",
    "dispatch",
    "answer",
    "resolve",
    "verify",
    "verify_fail",
    "close",
    "reopen",
    "archive",
]
WISH_ACTIONS = [
    "post",
    "publish",
    "reject",
    "cancel",
    "claim",
    "release",
    "complete",
    "confirm",
    "dispute",
    "auto_confirm",
    "reopen",
]
CHECKS = (  # (table, constraint, column, values before, values after)
    ("event", "ck_event_status_valid", "status", EVENT_STATUSES, EVENT_STATUSES + ["withdrawn"]),
    (
        "event_step",
        "ck_event_step_action_valid",
        "action",
        EVENT_ACTIONS,
        EVENT_ACTIONS + ["withdraw", "not_fixed"],
    ),
    ("wish_step", "ck_wish_step_action_valid", "action", WISH_ACTIONS, WISH_ACTIONS + ["resubmit"]),
)


def _check(table: str, name: str, column: str, values: list[str]) -> None:
    allowed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f(name), f"{column} IN ({allowed})")


def upgrade():
    op.create_table(
        "event_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating IN ('good', 'average', 'poor')", name=op.f("ck_event_feedback_rating_valid")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_feedback_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["user.id"], name=op.f("fk_event_feedback_reporter_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_feedback")),
        sa.UniqueConstraint("event_id", "round", name=op.f("uq_event_feedback_event_id")),
    )
    with op.batch_alter_table("event_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_feedback_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_feedback_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_feedback_reporter_id"), ["reporter_id"], unique=False)
    for table, name, column, _before, after in CHECKS:
        _check(table, name, column, after)


def downgrade():
    op.execute("DELETE FROM wish_step WHERE action = 'resubmit'")
    op.execute("DELETE FROM event_step WHERE action IN ('withdraw', 'not_fixed')")
    op.execute("UPDATE event SET status = 'reported' WHERE status = 'withdrawn'")
    for table, name, column, before, _after in CHECKS:
        _check(table, name, column, before)
    with op.batch_alter_table("event_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_feedback_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_event_feedback_event_id"))
        batch_op.drop_index(batch_op.f("ix_event_feedback_at"))
    op.drop_table("event_feedback")
