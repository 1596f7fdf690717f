"""Bad input in back-office forms gets a Chinese validation message and writes nothing."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, AuditLog, GridRole, Pledge, Resident, TeamPerson, Unit, User

GRID_A = "610404001001001"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def area_id(code: str) -> int:
    return db.session.scalar(select(Area.id).where(Area.code == code))


def test_empty_required_field_is_refused_in_chinese(login_as):
    client = login_as("admin")
    before = count(Resident)
    page = client.post("/admin/resident/new/", data={"name": "", "grid": area_id(GRID_A)}).get_data(
        as_text=True
    )
    assert "该字段是必填字段" in page or "必填" in page
    assert "创建记录失败" in page  # from translations/admin: Flask-Admin's own catalogue lacks it
    assert count(Resident) == before and count(AuditLog) == 0


def test_duplicate_area_code_is_refused_in_chinese(login_as):
    client = login_as("admin")
    before = count(Area)
    page = client.post(
        "/admin/area/new/",
        data={
            "code": GRID_A,
            "name": "重复网格",
            "level": "grid",
            "parent": area_id("610404001001"),
        },
    ).get_data(as_text=True)
    assert "已经存在" in page
    assert count(Area) == before


def test_area_code_at_the_wrong_level_is_refused_in_chinese(login_as):
    client = login_as("admin")
    before = count(Area)
    page = client.post(
        "/admin/area/new/",
        data={
            "code": "610404001001",
            "name": "错级网格",
            "level": "grid",
            "parent": area_id("610404001001"),
        },
    ).get_data(as_text=True)
    assert "网格代码应为15位数字" in page
    assert count(Area) == before


def test_area_code_must_extend_its_parent(login_as):
    client = login_as("admin")
    page = client.post(
        "/admin/area/new/",
        data={
            "code": "610404002001009",
            "name": "错父网格",
            "level": "grid",
            "parent": area_id("610404001001"),
        },
    ).get_data(as_text=True)
    assert "610404001001" in page and "开头" in page
    assert db.session.scalar(select(Area.id).where(Area.code == "610404002001009")) is None


def test_a_good_grid_is_created_under_its_community(login_as):
    client = login_as("community")
    response = client.post(
        "/admin/area/new/",
        data={
            "code": "610404001001009",
            "name": "第九网格",
            "level": "grid",
            "parent": area_id("610404001001"),
        },
    )
    assert response.status_code == 302
    grid = db.session.scalars(select(Area).where(Area.code == "610404001001009")).one()
    assert grid.parent.code == "610404001001"


def test_community_admin_cannot_create_a_grid_in_another_community(login_as):
    client = login_as("community")
    page = client.post(
        "/admin/area/new/",
        data={
            "code": "610404001002009",
            "name": "越界网格",
            "level": "grid",
            "parent": area_id("610404001002"),
        },
    )
    assert page.status_code == 200
    assert db.session.scalar(select(Area.id).where(Area.code == "610404001002009")) is None


def test_bad_id_number_and_phone_are_refused_in_chinese(login_as):
    client = login_as("grid")
    before = count(Resident)
    page = client.post(
        "/admin/resident/new/",
        data={
            "name": "张三",
            "grid": area_id(GRID_A),
            "residence_type": "registered",
            "id_number": "610404199001011234",
            "phone": "12345",
        },
    ).get_data(as_text=True)
    assert "校验码" in page
    assert "11位" in page
    assert count(Resident) == before


def test_pledge_needs_exactly_one_owner(login_as):
    client = login_as("admin")
    before = count(Pledge)
    page = client.post("/admin/pledge/new/", data={"title": "无主承诺", "status": "planned"}).get_data(
        as_text=True
    )
    assert "只能" in page or "恰好" in page or "选择其一" in page
    assert count(Pledge) == before


def test_pledge_takes_its_area_from_its_unit(login_as):
    client = login_as("community")
    unit = db.session.scalars(select(Unit).where(Unit.community_code == "610404001001")).first()
    response = client.post(
        "/admin/pledge/new/", data={"title": "开展义诊", "unit": unit.id, "status": "planned"}
    )
    assert response.status_code == 302
    pledge = db.session.scalars(select(Pledge).where(Pledge.title == "开展义诊")).one()
    assert pledge.area_code == "610404001001"


def test_second_grid_leader_in_one_grid_is_refused(login_as):
    client = login_as("admin")
    before = count(GridRole)
    person = db.session.scalars(select(TeamPerson).where(TeamPerson.area_code == GRID_A)).first()
    page = client.post(
        "/admin/gridrole/new/", data={"grid": area_id(GRID_A), "role": "grid_leader", "person": person.id}
    )
    assert page.status_code == 200
    assert "已有" in page.get_data(as_text=True)
    assert count(GridRole) == before


def test_admin_creates_a_member_user_with_a_profile(login_as):
    client = login_as("admin")
    response = client.post(
        "/admin/user/new/",
        data={
            "username": "newmember",
            "name": "新党员",
            "role": "member",
            "area": area_id(GRID_A),
            "active": "y",
            "new_password": "long-enough-pass",
        },
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.username == "newmember")).one()
    assert user.check_password("long-enough-pass")
    assert user.password_hash.startswith("scrypt")
    from app.models import Member

    assert db.session.scalars(select(Member).where(Member.user_id == user.id)).one().grid_code == GRID_A


def test_user_with_a_role_at_the_wrong_level_is_refused(login_as):
    client = login_as("admin")
    page = client.post(
        "/admin/user/new/",
        data={
            "username": "badstreet",
            "role": "street_admin",
            "area": area_id(GRID_A),
            "active": "y",
            "new_password": "long-enough-pass",
        },
    )
    assert page.status_code == 200
    assert db.session.scalar(select(User.id).where(User.username == "badstreet")) is None


def test_sla_policy_with_deadlines_out_of_order_is_refused(login_as):
    from app.models import SlaPolicy

    client = login_as("admin")
    before = count(SlaPolicy)
    page = client.post(
        "/admin/slapolicy/new/",
        data={
            "name": "乱序",
            "respond_minutes": 60,
            "reply_minutes": 30,
            "resolve_minutes": 1440,
        },
    ).get_data(as_text=True)
    assert "is-invalid" in page
    assert count(SlaPolicy) == before


@pytest.mark.parametrize(
    "url, field, model",
    [
        ("/admin/slapolicy/new/", "resolve_minutes", "SlaPolicy"),
        ("/admin/wishcategory/new/", "position", "WishCategory"),
        ("/admin/room/new/", "floor", "Room"),
        ("/admin/room/new/", "area_m2", "Room"),
    ],
)
def test_a_number_too_big_for_its_column_is_a_message_on_the_form(login_as, url, field, model):
    from app import models

    before = count(getattr(models, model))
    page = login_as("admin").post(url, data={field: "1" + "0" * 30}).get_data(as_text=True)
    field_html = page.split(f'id="{field}"', 1)[1].split("</ul>", 1)[0]
    assert (
        f'is-invalid" id="{field}"' in page and "数值大小必须介于" in field_html
    )  # the form again, saying why
    assert count(getattr(models, model)) == before
