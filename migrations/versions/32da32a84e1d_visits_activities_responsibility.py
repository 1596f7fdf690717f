"""责任田 (household assignments), household visits and unit activities; the hand-typed visit dates become records

Each `member.last_household_visit_on` becomes a visit (channel `migrated`) at noon of that district day. Nobody
recorded which household it was, so the visit has no household: it stays in the member's history (and their
monthly record sheet) but counts for no household's due date. Each `unit.last_visit_on` becomes an activity of
kind `other` in the unit's community on that day. Then both columns go. Downgrade restores them from the latest
records.

Revision ID: 32da32a84e1d
Revises: cd9046cf8d67
Create Date: 2026-12-02 08:24:41.058944

"""

from datetime import UTC, datetime, time

import sqlalchemy as sa
from alembic import op

from app.services.clock import district_zone

# revision identifiers, used by Alembic.
revision = "32da32a84e1d"
down_revision = "cd9046cf8d67"
branch_labels = None
depends_on = None

CHANNELS = "channel IN ('site', 'api', 'admin', 'job', 'cli', 'migrated')"
MIGRATED_VISIT_NOTE = "由原手工填写的“最近入户走访”日期迁移，未记录走访的住户。"
MIGRATED_ACTIVITY_TITLE = "下沉社区活动（由原手工填写的“最近下沉社区”日期迁移）"


def _noon(day) -> datetime:
    """Noon of a district day, in UTC (what the column stores)."""
    return datetime.combine(day, time(12), tzinfo=district_zone()).astimezone(UTC)


def upgrade():
    op.create_table(
        "household_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["user.id"], name=op.f("fk_household_assignment_assigned_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["area.code"],
            name=op.f("fk_household_assignment_grid_code_area"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_household_assignment_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_household_assignment_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_assignment")),
    )
    with op.batch_alter_table("household_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_assignment_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index("ix_household_assignment_member_open", ["member_id", "ended_at"], unique=False)
        batch_op.create_index(
            "uq_household_assignment_open",
            ["household_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "household_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_household_visit_channel_valid")),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["area.code"], name=op.f("fk_household_visit_grid_code_area"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_household_visit_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_household_visit_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user.id"], name=op.f("fk_household_visit_recorded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_visit")),
    )
    with op.batch_alter_table("household_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_visit_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index(
            "ix_household_visit_household_day", ["household_id", "visited_on"], unique=False
        )
        batch_op.create_index("ix_household_visit_member_day", ["member_id", "visited_on"], unique=False)

    op.create_table(
        "unit_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=15), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_unit_activity_channel_valid")),
        sa.CheckConstraint(
            "kind IN ('party_day', 'caring_visit', 'civility', 'safety_check', 'other')",
            name=op.f("ck_unit_activity_kind_valid"),
        ),
        sa.CheckConstraint(
            "participants IS NULL OR participants >= 0",
            name=op.f("ck_unit_activity_participants_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["area.code"],
            name=op.f("fk_unit_activity_community_code_area"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user.id"], name=op.f("fk_unit_activity_recorded_by_id_user")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_unit_activity_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_activity")),
    )
    with op.batch_alter_table("unit_activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_activity_community_code"), ["community_code"], unique=False)
        batch_op.create_index("ix_unit_activity_unit_day", ["unit_id", "held_on"], unique=False)

    _dates_to_records()

    _drop_hand_typed_dates()


def _drop_hand_typed_dates():
    """Drop the two date columns and add the unit's contact login.

    SQLite: plain ALTER TABLE (3.35+), not a batch copy of the tables: a copy drops and re-creates `member` and
    `unit`, which the enforced foreign keys of every table pointing at them (wishes, pledges …) refuse.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_member_last_household_visit_on", table_name="member")
        op.execute("ALTER TABLE member DROP COLUMN last_household_visit_on")
        op.drop_index("ix_unit_last_visit_on", table_name="unit")
        op.execute("ALTER TABLE unit DROP COLUMN last_visit_on")
        # a downgrade on SQLite leaves the column in place (see downgrade): then it is there already
        if "contact_user_id" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("unit")}:
            op.execute(
                "ALTER TABLE unit ADD COLUMN contact_user_id INTEGER "
                'CONSTRAINT fk_unit_contact_user_id_user REFERENCES "user" (id)'
            )
        op.create_index("ix_unit_contact_user_id", "unit", ["contact_user_id"], unique=False)
        return
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_last_household_visit_on"))
        batch_op.drop_column("last_household_visit_on")

    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_user_id", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_unit_last_visit_on"))
        batch_op.create_index(batch_op.f("ix_unit_contact_user_id"), ["contact_user_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_unit_contact_user_id_user"), "user", ["contact_user_id"], ["id"]
        )
        batch_op.drop_column("last_visit_on")


def _dates_to_records():
    connection = op.get_bind()
    now = datetime.now(UTC)
    member = sa.table(
        "member",
        sa.column("id", sa.Integer),
        sa.column("grid_code", sa.String),
        sa.column("user_id", sa.Integer),
        sa.column("last_household_visit_on", sa.Date),
    )
    unit = sa.table(
        "unit",
        sa.column("id", sa.Integer),
        sa.column("community_code", sa.String),
        sa.column("last_visit_on", sa.Date),
    )
    visits = [
        {
            "member_id": member_id,
            "household_id": None,
            "grid_code": grid_code,
            "visited_at": _noon(day),
            "visited_on": day,
            "note": MIGRATED_VISIT_NOTE,
            "findings": None,
            "channel": "migrated",
            "recorded_by_id": None,
            "created_at": now,
        }
        for member_id, grid_code, day in connection.execute(
            sa.select(member.c.id, member.c.grid_code, member.c.last_household_visit_on).where(
                member.c.last_household_visit_on.is_not(None)
            )
        )
    ]
    if visits:
        op.bulk_insert(_visit_table(), visits)
    activities = [
        {
            "unit_id": unit_id,
            "community_code": community_code,
            "held_on": day,
            "kind": "other",
            "title": MIGRATED_ACTIVITY_TITLE,
            "participants": None,
            "note": None,
            "channel": "migrated",
            "recorded_by_id": None,
            "created_at": now,
        }
        for unit_id, community_code, day in connection.execute(
            sa.select(unit.c.id, unit.c.community_code, unit.c.last_visit_on).where(
                unit.c.last_visit_on.is_not(None)
            )
        )
    ]
    if activities:
        op.bulk_insert(_activity_table(), activities)


def _visit_table():
    return sa.table(
        "household_visit",
        sa.column("member_id", sa.Integer),
        sa.column("household_id", sa.Integer),
        sa.column("grid_code", sa.String),
        sa.column("visited_at", sa.DateTime(timezone=True)),
        sa.column("visited_on", sa.Date),
        sa.column("note", sa.Text),
        sa.column("findings", sa.Text),
        sa.column("channel", sa.String),
        sa.column("recorded_by_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )


def _activity_table():
    return sa.table(
        "unit_activity",
        sa.column("unit_id", sa.Integer),
        sa.column("community_code", sa.String),
        sa.column("held_on", sa.Date),
        sa.column("kind", sa.String),
        sa.column("title", sa.String),
        sa.column("participants", sa.Integer),
        sa.column("note", sa.Text),
        sa.column("channel", sa.String),
        sa.column("recorded_by_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # plain ALTERs for the reason given in _drop_hand_typed_dates; SQLite cannot drop a column holding a
        # foreign key without copying the table, so unit.contact_user_id stays (unused by the older code)
        op.drop_index("ix_unit_contact_user_id", table_name="unit")
        op.execute("ALTER TABLE unit ADD COLUMN last_visit_on DATE")
        op.create_index("ix_unit_last_visit_on", "unit", ["last_visit_on"], unique=False)
        op.execute("ALTER TABLE member ADD COLUMN last_household_visit_on DATE")
        op.create_index(
            "ix_member_last_household_visit_on", "member", ["last_household_visit_on"], unique=False
        )
    else:
        with op.batch_alter_table("unit", schema=None) as batch_op:
            batch_op.add_column(sa.Column("last_visit_on", sa.DATE(), nullable=True))
            batch_op.drop_constraint(batch_op.f("fk_unit_contact_user_id_user"), type_="foreignkey")
            batch_op.drop_index(batch_op.f("ix_unit_contact_user_id"))
            batch_op.create_index(batch_op.f("ix_unit_last_visit_on"), ["last_visit_on"], unique=False)
            batch_op.drop_column("contact_user_id")
        with op.batch_alter_table("member", schema=None) as batch_op:
            batch_op.add_column(sa.Column("last_household_visit_on", sa.DATE(), nullable=True))
            batch_op.create_index(
                batch_op.f("ix_member_last_household_visit_on"), ["last_household_visit_on"], unique=False
            )
    # the latest record of each becomes the hand-typed date again
    op.execute(
        "UPDATE member SET last_household_visit_on = "
        "(SELECT MAX(visited_on) FROM household_visit WHERE household_visit.member_id = member.id)"
    )
    op.execute(
        "UPDATE unit SET last_visit_on = (SELECT MAX(held_on) FROM unit_activity "
        "WHERE unit_activity.unit_id = unit.id AND unit_activity.community_code = unit.community_code)"
    )

    with op.batch_alter_table("unit_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_activity_unit_day")
        batch_op.drop_index(batch_op.f("ix_unit_activity_community_code"))
    op.drop_table("unit_activity")
    with op.batch_alter_table("household_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_household_visit_member_day")
        batch_op.drop_index("ix_household_visit_household_day")
        batch_op.drop_index(batch_op.f("ix_household_visit_grid_code"))
    op.drop_table("household_visit")
    with op.batch_alter_table("household_assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_household_assignment_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_household_assignment_member_open")
        batch_op.drop_index(batch_op.f("ix_household_assignment_grid_code"))
    op.drop_table("household_assignment")
