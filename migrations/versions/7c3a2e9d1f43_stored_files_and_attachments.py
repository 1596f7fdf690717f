"""Stored files (STORAGE=database) and photo attachments of reports, wishes and their steps

Revision ID: 7c3a2e9d1f43
Revises: b4d9e7f2a6c1
Create Date: 2026-12-02 12:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c3a2e9d1f43"
down_revision = "b4d9e7f2a6c1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_file")),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("event_step_id", sa.Integer(), nullable=True),
        sa.Column("wish_id", sa.Integer(), nullable=True),
        sa.Column("wish_step_id", sa.Integer(), nullable=True),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("image_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('event', 'event_step', 'wish', 'wish_step')",
            name=op.f("ck_attachment_subject_kind_valid"),
        ),
        sa.CheckConstraint(
            "(subject_kind IN ('event', 'event_step') AND event_id IS NOT NULL AND wish_id IS NULL)"
            " OR (subject_kind IN ('wish', 'wish_step') AND wish_id IS NOT NULL AND event_id IS NULL)",
            name=op.f("ck_attachment_one_subject"),
        ),
        sa.CheckConstraint(
            "(subject_kind = 'event_step') = (event_step_id IS NOT NULL)"
            " AND (subject_kind = 'wish_step') = (wish_step_id IS NOT NULL)",
            name=op.f("ck_attachment_step_matches_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_attachment_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_step_id"],
            ["event_step.id"],
            name=op.f("fk_attachment_event_step_id_event_step"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wish.id"], name=op.f("fk_attachment_wish_id_wish"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["wish_step_id"],
            ["wish_step.id"],
            name=op.f("fk_attachment_wish_step_id_wish_step"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["uploader_id"], ["user.id"], name=op.f("fk_attachment_uploader_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("image_key", name=op.f("uq_attachment_image_key")),
        sa.UniqueConstraint("thumbnail_key", name=op.f("uq_attachment_thumbnail_key")),
    )
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.create_index("ix_attachment_subject", ["subject_kind", "event_id", "wish_id"])
        batch_op.create_index(batch_op.f("ix_attachment_event_step_id"), ["event_step_id"])
        batch_op.create_index(batch_op.f("ix_attachment_wish_id"), ["wish_id"])
        batch_op.create_index(batch_op.f("ix_attachment_wish_step_id"), ["wish_step_id"])
        batch_op.create_index(batch_op.f("ix_attachment_uploader_id"), ["uploader_id"])


def downgrade():
    op.drop_table("attachment")
    op.drop_table("stored_file")
