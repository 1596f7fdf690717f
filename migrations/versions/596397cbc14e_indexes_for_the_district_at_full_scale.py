"""Indexes for the district at full scale: back-office lists over 296,166 residents answer from indexes.

Residents sort by birth date, rooms search and sort by number; on PostgreSQL, text_pattern_ops
indexes serve the lists' "starts with" search (LIKE 'term%') under any collation. On SQLite those
are partial indexes that hold no rows: SQLite answers the search with a range on the plain index.

Revision ID: 596397cbc14e
Revises: cd2881530d80
Create Date: 2026-11-26 07:26:37.855526

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "596397cbc14e"
down_revision = "cd2881530d80"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_head_name_prefix",
            ["head_name"],
            unique=False,
            postgresql_ops={"head_name": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )
        batch_op.create_index(
            "ix_household_number_prefix",
            ["number"],
            unique=False,
            postgresql_ops={"number": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )

    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_birth_date"), ["birth_date"], unique=False)
        batch_op.create_index(
            "ix_resident_name_prefix",
            ["name"],
            unique=False,
            postgresql_ops={"name": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )

    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_number"), ["number"], unique=False)
        batch_op.create_index(
            "ix_room_number_prefix",
            ["number"],
            unique=False,
            postgresql_ops={"number": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )


def downgrade():
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_room_number_prefix", postgresql_ops={"number": "text_pattern_ops"}, sqlite_where=sa.text("0")
        )
        batch_op.drop_index(batch_op.f("ix_room_number"))

    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_resident_name_prefix", postgresql_ops={"name": "text_pattern_ops"}, sqlite_where=sa.text("0")
        )
        batch_op.drop_index(batch_op.f("ix_resident_birth_date"))

    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_household_number_prefix",
            postgresql_ops={"number": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )
        batch_op.drop_index(
            "ix_household_head_name_prefix",
            postgresql_ops={"head_name": "text_pattern_ops"},
            sqlite_where=sa.text("0"),
        )
