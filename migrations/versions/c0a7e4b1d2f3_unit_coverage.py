"""Unit coverage (包抓): a check-in unit covers grids of its community over a period

Revision ID: c0a7e4b1d2f3
Revises: a3c91f0d7e25
Create Date: 2026-12-02 08:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c0a7e4b1d2f3"
down_revision = "a3c91f0d7e25"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("until IS NULL OR until >= since", name=op.f("ck_unit_coverage_period_order")),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["area.code"], name=op.f("fk_unit_coverage_grid_code_area"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_unit_coverage_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_coverage")),
    )
    with op.batch_alter_table("unit_coverage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_coverage_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_coverage_unit_id"), ["unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("unit_coverage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_coverage_unit_id"))
        batch_op.drop_index(batch_op.f("ix_unit_coverage_grid_code"))
    op.drop_table("unit_coverage")
