"""Registration finds the grid by compound and building, links the grid's existing record of the person
(same phone or ID number) instead of making a second resident, and refuses a second account for the same
phone; the login page says what to do about a forgotten password. Read in Chinese, the product's default."""

import html
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Building, Resident, User
from app.services.idcard import make_id_number

GRID = "610404001001002"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def building_in(grid_code: str = GRID) -> Building:
    return db.session.scalar(select(Building).where(Building.grid_code == grid_code).limit(1))


def form(**overrides) -> dict:
    data = {
        "username": "xiaoming",
        "name": "王小明",
        "phone": "13812345678",
        "building": str(building_in().id),
        "password": "correct horse battery",
        "confirm": "correct horse battery",
    }
    return {**data, **overrides}


def residents_named(name: str) -> list[Resident]:
    db.session.expire_all()
    return list(db.session.scalars(select(Resident).where(Resident.name == name)))


def test_the_grid_follows_the_building(app, demo):
    building = building_in("610404001001001")
    client = app.test_client()
    assert client.post("/register", data=form(building=str(building.id))).status_code == 303
    user = db.session.scalar(select(User).where(User.username == "xiaoming"))
    assert user.area_code == "610404001001001" == residents_named("王小明")[0].grid_code


def test_the_same_phone_twice_makes_one_resident_and_the_second_is_told_to_log_in(app, demo):
    assert app.test_client().post("/register", data=form()).status_code == 303
    again = app.test_client().post("/register", data=form(username="xiaoming2"))
    assert again.status_code == 200
    assert "该手机号或身份证号已注册过账号" in text_of(again) and "网格员" in text_of(again)
    assert len(residents_named("王小明")) == 1
    assert db.session.scalar(select(User.id).where(User.username == "xiaoming2")) is None


def test_a_record_the_grid_keeps_for_the_phone_is_linked_not_duplicated(app, demo):
    kept = Resident(name="王小明", phone="13812345678", grid_code=GRID, note="网格员登记")
    db.session.add(kept)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Resident))
    assert app.test_client().post("/register", data=form()).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Resident)) == before
    user = db.session.scalar(select(User).where(User.username == "xiaoming"))
    assert db.session.get(Resident, kept.id).user_id == user.id
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.model == "Resident", AuditLog.object_id == str(kept.id))
    )
    assert entry is not None and entry.after == {"user_id": user.id} and entry.username == "xiaoming"


def test_a_record_found_by_id_number_is_linked_even_with_another_phone(app, demo):
    id_number = make_id_number("610404", date(1950, 3, 1), 12)
    kept = Resident(name="王小明", phone="13900000000", id_number=id_number, grid_code=GRID)
    db.session.add(kept)
    db.session.commit()
    assert app.test_client().post("/register", data=form(id_number=id_number)).status_code == 303
    db.session.expire_all()
    assert db.session.get(Resident, kept.id).user_id is not None
    assert len(residents_named("王小明")) == 1


def test_an_invalid_id_number_is_refused(app, demo):
    answer = app.test_client().post("/register", data=form(id_number="610404195003011234"))
    assert answer.status_code == 200 and "身份证号无效" in text_of(answer)
    assert residents_named("王小明") == []


def test_the_login_page_says_to_ask_the_grid_worker(client):
    page = text_of(client.get("/login"))
    assert "忘记密码？请联系您的网格员" in page and "修改密码" in page


def test_registration_form_offers_buildings_grouped_by_compound_naming_their_grid(client, demo):
    page = text_of(client.get("/register"))
    assert '<optgroup label="文汇社区B区">' in page and "1号楼 · 第二网格" in page
    assert f'value="{building_in().id}"' in page
    found = text_of(client.get("/register?compound=文汇社区B"))
    assert '<optgroup label="文汇社区B区">' in found and '<optgroup label="文汇社区A区">' not in found
