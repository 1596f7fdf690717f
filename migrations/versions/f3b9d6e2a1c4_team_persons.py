"""Team persons: one row per person of the grid teams, places link to it; one captain and one leader per grid

Revision ID: f3b9d6e2a1c4
Revises: 32da32a84e1d
Create Date: 2026-12-02 08:40:00

Each place (grid_role) held its own copy of the holder's name, phone, account and member profile, so a legal
adviser serving four grids was four people. Upgrading makes one team_person of each holder and points the
places at it: places with the same account, or else the same member profile, or else the same name and phone
are one person (two different people share neither an account nor a name with a phone number). A person is
managed by the smallest area holding all their grids.
"""

import sqlalchemy as sa
from alembic import op

revision = "f3b9d6e2a1c4"
down_revision = "32da32a84e1d"
branch_labels = None
depends_on = None

OLD_SINGLE = "'vanguard_captain', 'grid_leader', 'deputy_leader', 'liaison', 'legal_adviser'"
NEW_SINGLE = "'vanguard_captain', 'grid_leader'"
CODE_LENGTHS = (15, 12, 9, 6)


def _managing_area(codes: list[str]) -> str:
    """The smallest area (grid, community, street, district) whose code starts every one of `codes`."""
    for length in CODE_LENGTHS:
        if len({code[:length] for code in codes}) == 1:
            return codes[0][:length]
    return codes[0][:6]


def _holder_key(row) -> tuple:
    if row.user_id is not None:
        return ("user", row.user_id)
    if row.member_id is not None:
        return ("member", row.member_id)
    if row.phone:
        return ("name-phone", row.name, row.phone)
    return ("place", row.id)  # a name without a phone: no telling two namesakes apart


def upgrade():
    op.create_table(
        "team_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("organisation", sa.String(length=100), nullable=True),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["area.code"], name=op.f("fk_team_person_area_code_area"), onupdate="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_team_person_member_id_member")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_team_person_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_person")),
        sa.UniqueConstraint("member_id", name=op.f("uq_team_person_member_id")),
        sa.UniqueConstraint("user_id", name=op.f("uq_team_person_user_id")),
    )
    with op.batch_alter_table("team_person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_person_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_team_person_name"), ["name"], unique=False)
    with op.batch_alter_table("grid_role", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, grid_code, name, phone, user_id, member_id, created_at FROM grid_role ORDER BY id"
        )
    ).all()
    holders: dict[tuple, list] = {}
    for row in rows:
        holders.setdefault(_holder_key(row), []).append(row)
    persons, links, members_taken = [], [], set()
    for person_id, places in enumerate(holders.values(), start=1):
        first = places[0]
        member_id = next((p.member_id for p in places if p.member_id is not None), None)
        if member_id in members_taken:  # the profile already went to the person holding its account
            member_id = None
        members_taken.add(member_id)
        persons.append(
            {
                "id": person_id,
                "name": first.name,
                "phone": next((p.phone for p in places if p.phone), None),
                "area_code": _managing_area([p.grid_code for p in places]),
                "user_id": first.user_id,
                "member_id": member_id,
                "created_at": first.created_at,
            }
        )
        links += [{"place": p.id, "person": person_id} for p in places]
    person = sa.table(
        "team_person",
        *(sa.column(c) for c in ("id", "name", "phone", "area_code", "user_id", "member_id", "created_at")),
    )
    if persons:
        connection.execute(person.insert(), persons)
        connection.execute(sa.text("UPDATE grid_role SET person_id = :person WHERE id = :place"), links)
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('team_person', 'id'), :n)"), {"n": len(persons)}
            )

    op.drop_index("uq_grid_role_single_per_grid", table_name="grid_role")
    with op.batch_alter_table("grid_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_role_user_id"))
        batch_op.drop_index(batch_op.f("ix_grid_role_member_id"))
        batch_op.drop_constraint(batch_op.f("fk_grid_role_user_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_grid_role_member_id_member"), type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.drop_column("member_id")
        batch_op.drop_column("name")
        batch_op.drop_column("phone")
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_grid_role_person_id_team_person"), "team_person", ["person_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_grid_role_person_id"), ["person_id"], unique=False)
        batch_op.create_index("uq_grid_role_place", ["grid_code", "role", "person_id"], unique=True)
    op.create_index(
        "uq_grid_role_single_per_grid",
        "grid_role",
        ["grid_code", "role"],
        unique=True,
        sqlite_where=sa.text(f"role IN ({NEW_SINGLE})"),
        postgresql_where=sa.text(f"role IN ({NEW_SINGLE})"),
    )


def downgrade():
    """Copies each person back onto their places; fails when a grid has two of a kind the old model allowed
    once (liaisons, deputies, legal advisers), rather than dropping people."""
    op.drop_index("uq_grid_role_single_per_grid", table_name="grid_role")
    with op.batch_alter_table("grid_role", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
    for column in ("name", "phone", "user_id", "member_id"):
        op.execute(
            f"UPDATE grid_role SET {column} = "
            f"(SELECT team_person.{column} FROM team_person WHERE team_person.id = grid_role.person_id)"
        )
    with op.batch_alter_table("grid_role", schema=None) as batch_op:
        batch_op.drop_index("uq_grid_role_place")
        batch_op.drop_index(batch_op.f("ix_grid_role_person_id"))
        batch_op.drop_constraint(batch_op.f("fk_grid_role_person_id_team_person"), type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.alter_column("name", existing_type=sa.String(length=50), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_grid_role_user_id_user"), "user", ["user_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_grid_role_member_id_member"), "member", ["member_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_grid_role_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grid_role_user_id"), ["user_id"], unique=False)
    op.create_index(
        "uq_grid_role_single_per_grid",
        "grid_role",
        ["grid_code", "role"],
        unique=True,
        sqlite_where=sa.text(f"role IN ({OLD_SINGLE})"),
        postgresql_where=sa.text(f"role IN ({OLD_SINGLE})"),
    )
    with op.batch_alter_table("team_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_person_name"))
        batch_op.drop_index(batch_op.f("ix_team_person_area_code"))
    op.drop_table("team_person")
