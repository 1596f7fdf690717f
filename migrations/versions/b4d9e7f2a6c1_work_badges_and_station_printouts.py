"""Work badges (持证上岗) and the printouts of a grid's station (its wall poster, its badge sheets)

Revision ID: b4d9e7f2a6c1
Revises: f3b9d6e2a1c4
Create Date: 2026-12-02 08:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b4d9e7f2a6c1"
down_revision = "f3b9d6e2a1c4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "badge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("holder_kind", sa.String(length=10), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("grid_role_id", sa.Integer(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("holder_name", sa.String(length=50), nullable=False),
        sa.Column("role_text", sa.String(length=200), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "holder_kind = 'member' OR member_id IS NULL", name=op.f("ck_badge_member_badge_has_member")
        ),
        sa.CheckConstraint(
            "holder_kind = 'team' OR grid_role_id IS NULL", name=op.f("ck_badge_team_badge_has_place")
        ),
        sa.CheckConstraint("holder_kind IN ('member', 'team')", name=op.f("ck_badge_holder_kind_valid")),
        sa.CheckConstraint(
            "status != 'revoked' OR revoked_at IS NOT NULL", name=op.f("ck_badge_revoked_has_time")
        ),
        sa.CheckConstraint(
            "status = 'revoked' OR member_id IS NOT NULL OR grid_role_id IS NOT NULL",
            name=op.f("ck_badge_valid_has_holder"),
        ),
        sa.CheckConstraint("status IN ('valid', 'revoked')", name=op.f("ck_badge_status_valid")),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["area.code"], name=op.f("fk_badge_grid_code_area"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["grid_role_id"],
            ["grid_role.id"],
            name=op.f("fk_badge_grid_role_id_grid_role"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["user.id"], name=op.f("fk_badge_issued_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_badge_member_id_member"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_badge_revoked_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge")),
        sa.UniqueConstraint("serial", name=op.f("uq_badge_serial")),
    )
    op.create_index(op.f("ix_badge_grid_code"), "badge", ["grid_code"], unique=False)
    op.create_index(op.f("ix_badge_grid_role_id"), "badge", ["grid_role_id"], unique=False)
    op.create_index(op.f("ix_badge_member_id"), "badge", ["member_id"], unique=False)
    op.create_index(op.f("ix_badge_status"), "badge", ["status"], unique=False)
    # one badge in force per member and per team place
    op.create_index(
        "uq_badge_member_in_force",
        "badge",
        ["member_id"],
        unique=True,
        sqlite_where=sa.text("status = 'valid'"),
        postgresql_where=sa.text("status = 'valid'"),
    )
    op.create_index(
        "uq_badge_place_in_force",
        "badge",
        ["grid_role_id"],
        unique=True,
        sqlite_where=sa.text("status = 'valid'"),
        postgresql_where=sa.text("status = 'valid'"),
    )
    op.create_table(
        "printout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("badge_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("pdf_path", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind != 'badge' OR badge_id IS NOT NULL", name=op.f("ck_printout_badge_printout_has_badge")
        ),
        sa.CheckConstraint("kind IN ('poster', 'badges', 'badge')", name=op.f("ck_printout_kind_valid")),
        sa.CheckConstraint("status IN ('pending', 'ready')", name=op.f("ck_printout_status_valid")),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badge.id"], name=op.f("fk_printout_badge_id_badge"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["area.code"], name=op.f("fk_printout_grid_code_area"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user.id"],
            name=op.f("fk_printout_requested_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printout")),
    )
    op.create_index(op.f("ix_printout_badge_id"), "printout", ["badge_id"], unique=False)
    op.create_index(op.f("ix_printout_grid_code"), "printout", ["grid_code"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_printout_grid_code"), table_name="printout")
    op.drop_index(op.f("ix_printout_badge_id"), table_name="printout")
    op.drop_table("printout")
    op.drop_index("uq_badge_place_in_force", table_name="badge")
    op.drop_index("uq_badge_member_in_force", table_name="badge")
    op.drop_index(op.f("ix_badge_status"), table_name="badge")
    op.drop_index(op.f("ix_badge_member_id"), table_name="badge")
    op.drop_index(op.f("ix_badge_grid_role_id"), table_name="badge")
    op.drop_index(op.f("ix_badge_grid_code"), table_name="badge")
    op.drop_table("badge")
