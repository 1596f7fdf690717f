"""Notifications: the inbox, each user's preferences, and the webhook endpoint that is the SMS/WeChat gateway

Revision ID: 5a1e0c7b9d21
Revises: 7c3a2e9d1f43
Create Date: 2026-12-02 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5a1e0c7b9d21"
down_revision = "7c3a2e9d1f43"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notification_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_user_id_read_at_id", "notification", ["user_id", "read_at", "id"])
    op.create_index("ix_notification_read_at", "notification", ["read_at"])
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("muted_kinds", sa.JSON(), nullable=False),
        sa.Column("muted_categories", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_notification_preference_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preference")),
    )
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.add_column(sa.Column("gateway", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("webhook_endpoint") as batch:
        batch.drop_column("gateway")
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_read_at", table_name="notification")
    op.drop_index("ix_notification_user_id_read_at_id", table_name="notification")
    op.drop_table("notification")
