"""The command line: creating users and seeding the demo district."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, GridRole, Household, Matter, Member, Resident, Unit, User
from app.services.demo import DEMO_PASSWORDS


def table_counts() -> dict:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Area, Resident, Household, Unit, Member, GridRole, Matter, User)
    }


def test_seed_demo_twice_gives_the_same_counts(runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    counts = table_counts()
    assert counts["Area"] > 10 and counts["Resident"] > 50 and counts["User"] == len(DEMO_PASSWORDS)
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert table_counts() == counts


def test_users_create_makes_a_staff_user_scoped_to_an_area(runner, demo):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "wang",
            "--role",
            "community_admin",
            "--password",
            "a-long-password",
            "--area",
            "610404002001",
            "--name",
            "王主任",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.username == "wang")).one()
    assert (user.role, user.area_code, user.name) == ("community_admin", "610404002001", "王主任")
    assert user.check_password("a-long-password")


def test_users_create_gives_a_member_their_profile(runner, demo):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "li",
            "--role",
            "member",
            "--password",
            "a-long-password",
            "--area",
            "610404002001001",
            "--name",
            "李党员",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.username == "li")).one()
    member = db.session.scalars(select(Member).where(Member.user_id == user.id)).one()
    assert member.grid_code == "610404002001001" and member.name == "李党员"


def test_users_create_gives_a_resident_their_profile(runner, demo):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "zhao",
            "--role",
            "resident",
            "--password",
            "a-long-password",
            "--area",
            "610404002001001",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.username == "zhao")).one()
    assert (
        db.session.scalars(select(Resident).where(Resident.user_id == user.id)).one().grid_code
        == "610404002001001"
    )


def test_users_create_department_user_names_its_department(runner, demo):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "hb",
            "--role",
            "department",
            "--password",
            "a-long-password",
            "--department",
            "HB",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User).where(User.username == "hb")).one().department.code == "HB"


def test_users_create_refuses_bad_input_clearly_and_writes_nothing(runner, demo):
    before = table_counts()
    cases = [
        (["--role", "wizard", "--password", "a-long-password"], "wizard"),
        (["--role", "grid_worker", "--password", "a-long-password", "--area", "999999"], "999999"),
        (["--role", "grid_worker", "--password", "a-long-password", "--area", "610404001"], "610404001"),
        (["--role", "grid_worker", "--password", "a-long-password"], "--area"),
        (["--role", "department", "--password", "a-long-password", "--department", "NOPE"], "NOPE"),
        (["--role", "admin", "--password", "short"], "8"),
    ]
    for extra, mentioned in cases:
        result = runner.invoke(args=["users", "create", "someone", *extra])
        assert result.exit_code != 0, extra
        assert mentioned in result.output, (extra, result.output)
    assert table_counts() == before


def test_users_create_refuses_a_taken_username(runner, demo):
    result = runner.invoke(
        args=["users", "create", "admin", "--role", "admin", "--password", "a-long-password"]
    )
    assert result.exit_code != 0 and "admin" in result.output
