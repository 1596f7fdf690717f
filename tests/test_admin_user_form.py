"""Creating a user in the back office: no role preset, Chinese empty choices, 语言 zh, 姓名, scope required."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Area, User
from app.services.users import UserError, check_role_binding

GRID_A = "610404001001001"
COMMUNITY_A = "610404001001"


def area_id(code: str) -> int:
    return db.session.scalar(select(Area.id).where(Area.code == code))


def options(page: str, name: str) -> list[tuple[str, str, bool]]:
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL).group(1)
    return [
        (value, label.strip(), "selected" in attrs)
        for attrs, value, label in re.findall(r'<option([^>]*?)value="([^"]*)"[^>]*>(.*?)</option>', select_)
    ]


def test_the_new_user_form_presets_nothing_risky(login_as):
    page = login_as("admin").get("/admin/user/new/").get_data(as_text=True)
    roles = options(page, "role")
    assert roles[0][:2] == ("__None", "— 请选择 —") and not any(selected for _v, _l, selected in roles[1:])
    for name in ("area", "department"):
        assert options(page, name)[0][1] == "— 请选择 —", name
    assert [value for value, _label, selected in options(page, "locale") if selected] == ["zh_Hans_CN"]
    assert re.search(r'<label for="name"[^>]*>\s*姓名', page)
    assert "名称" not in re.sub(r"<option.*?</option>", "", page)


def test_every_forms_empty_choice_reads_in_chinese(app, login_as):
    client = login_as("admin")
    for view in app.extensions["admin"][0]._views:
        if not hasattr(view, "model") or view.create_template != "admin/model/create.html":
            continue
        page = client.get(f"{view.url}/new/")
        if page.status_code != 200:  # a view nobody creates in
            continue
        text = page.get_data(as_text=True)
        assert "请选择模型" not in text and "Please select model" not in text, view.url  # searched choices
        for label in re.findall(r'<option[^>]*value="__None"[^>]*>(.*?)</option>', text):
            assert label.strip() and label.strip() != "__None", view.url


def test_people_are_labelled_by_their_full_name(login_as):
    client = login_as("admin")
    for url in ("/admin/user/", "/admin/resident/", "/admin/teamperson/", "/admin/member/"):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r'col-name">\s*(<a[^>]*>)?\s*姓名', page), url


def test_a_user_without_a_role_is_refused_with_a_message(login_as):
    page = login_as("admin").post(
        "/admin/user/new/",
        data={"username": "norole", "role": "__None", "active": "y", "new_password": "long-enough-pass"},
    )
    assert page.status_code == 200 and "请选择用户的角色" in page.get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.username == "norole")) is None


@pytest.mark.parametrize(
    "role, field, message",
    [
        ("grid_worker", "area", "网格员账号必须指定所属区域：请选择一个网格"),
        ("community_admin", "area", "社区工作人员账号必须指定所属区域：请选择一个社区"),
        ("department", "department", "职能部门账号必须指定所属部门"),
    ],
)
def test_staff_roles_need_their_scope(login_as, role, field, message):
    page = login_as("admin").post(
        "/admin/user/new/",
        data={"username": "noscope", "role": role, "active": "y", "new_password": "long-enough-pass"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and message in text
    # next to the field it is about
    assert re.search(rf'for="{field}".*?{message}', text, re.DOTALL)
    assert db.session.scalar(select(User.id).where(User.username == "noscope")) is None


def test_the_rule_lives_in_the_service(demo):
    with pytest.raises(UserError) as refused:
        check_role_binding("grid_worker", None, None)
    assert refused.value.field == "area"
    with pytest.raises(UserError):
        check_role_binding(None, None, None)
    check_role_binding("admin", None, None)


def test_a_community_user_with_its_community_is_created_in_chinese(login_as):
    response = login_as("admin").post(
        "/admin/user/new/",
        data={
            "username": "newcommunity",
            "name": "李主任",
            "role": "community_admin",
            "area": area_id(COMMUNITY_A),
            "active": "y",
            "new_password": "long-enough-pass",
        },
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.username == "newcommunity")).one()
    assert (user.role, user.area_code, user.locale) == ("community_admin", COMMUNITY_A, "zh_Hans_CN")
