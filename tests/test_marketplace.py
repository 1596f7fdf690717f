"""The public site through HTTP: home, login, logout, registration, language and error pages."""

import re

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Building, Resident, User

GRID = "610404001001002"  # 渭阳街道 / 文汇社区 / 第二网格 in the demo district


pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.chinese
def test_site_speaks_chinese_by_default(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert "网格" in page and "登录" in page
    login = client.get("/login").get_data(as_text=True)
    assert "用户名" in login and "密码" in login


def building_in(grid_code: str = GRID) -> str:
    return str(db.session.scalar(select(Building.id).where(Building.grid_code == grid_code).limit(1)))


def registration(**overrides) -> dict:
    data = {
        "username": "xiaoming",
        "name": "王小明",
        "phone": "13812345678",
        "building": building_in(),
        "password": "correct horse battery",
        "confirm": "correct horse battery",
    }
    data.update(overrides)
    return data


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- home ----------------------------------------------------------------------------------------


def test_home_page_shows_district_streets(client, demo):
    page = text_of(client.get("/"))
    assert "渭城区" in page
    for street in ("渭阳街道", "人民路街道", "新兴路街道"):
        assert street in page
    assert "文汇社区" in page and "3 grids" in page  # 文汇社区 has three grids in the demo


def test_home_page_counts_grids_units_and_members(client, demo):
    page = text_of(client.get("/"))
    numbers = {label: int(n) for n, label in re.findall(r"<strong>(\d+)</strong><span>([^<]+)</span>", page)}
    assert numbers["grids"] == 11
    assert numbers["check-in units"] == 6
    assert numbers["checked-in members"] == 11 * 3 + 2  # three per grid, plus the demo member and captain


def test_home_page_invites_visitors_to_register_or_log_in(client, demo):
    page = text_of(client.get("/"))
    assert 'href="/register"' in page and 'href="/login"' in page


def test_home_page_greets_a_logged_in_user_with_their_role(client, auth, demo):
    auth.login("member")
    page = text_of(client.get("/"))
    assert "王建国" in page and "Checked-in member" in page


def test_home_page_works_before_any_area_exists(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "has not been set up yet" in text_of(response)


def test_page_layout_is_made_for_phones_and_uses_no_cdn(client):
    page = text_of(client.get("/"))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "/static/css/site.css" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert client.get("/static/css/site.css").status_code == 200


# --- login and logout -----------------------------------------------------------------------------


def test_resident_login_lands_on_home_page(client, auth, demo):
    response = auth.login("resident")
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/"
    assert db.session.scalar(select(User).where(User.username == "resident")).last_login_at is not None


@pytest.mark.parametrize("username", ["admin", "street", "community", "grid", "dept"])
def test_staff_login_redirects_to_back_office(client, auth, demo, username):
    response = auth.login(username)
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/admin/"


def test_staff_see_a_back_office_link_and_residents_do_not(app, demo, login_as):
    assert 'href="/admin/"' in text_of(login_as("grid").get("/"))
    assert 'href="/admin/"' not in text_of(login_as("resident").get("/"))


def test_login_with_wrong_password_shows_error(client, auth, demo):
    response = auth.login("resident", "not-the-password")
    assert response.status_code == 200
    assert "Wrong username or password." in text_of(response)
    assert client.get("/account").status_code == 302  # still anonymous


def test_login_with_unknown_user_shows_the_same_error(client, auth, demo):
    wrong_password = text_of(auth.login("resident", "not-the-password"))
    unknown_user = auth.login("nobody-here", "not-the-password")
    assert unknown_user.status_code == 200
    assert "Wrong username or password." in text_of(unknown_user)
    assert wrong_password.count("Wrong username or password.") == text_of(unknown_user).count(
        "Wrong username or password."
    )


def test_deactivated_user_cannot_log_in(client, auth, demo):
    db.session.scalar(select(User).where(User.username == "resident")).active = False
    db.session.commit()
    response = auth.login("resident")
    assert response.status_code == 200 and "Wrong username or password." in text_of(response)


def test_api_only_account_cannot_log_in_to_the_site(client, auth, demo):
    response = auth.login("hotline")
    assert response.status_code == 200
    assert "API only" in text_of(response)


def test_next_parameter_brings_the_user_back(client, demo):
    assert client.get("/account").headers["Location"] == "/login?next=%2Faccount"
    response = client.post(
        "/login?next=%2Faccount", data={"username": "resident", "password": "onegrid-resident"}
    )
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\tevil",
        "evil.example",
    ],
)
def test_next_parameter_cannot_redirect_off_site(client, demo, target):
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "resident", "password": "onegrid-resident"}
    )
    assert response.headers["Location"] == "/"


def test_logged_in_user_visiting_login_goes_home(client, auth, demo):
    auth.login("resident")
    assert client.get("/login").headers["Location"] == "/"


def test_logout_requires_post(client, auth, demo):
    auth.login("resident")
    confirm = client.get("/logout")
    assert confirm.status_code == 200 and 'action="/logout"' in text_of(confirm)
    assert client.get("/account").status_code == 200  # a GET did not log anyone out
    response = auth.logout()
    assert response.status_code in (302, 303)
    assert client.get("/account").status_code == 302


def test_logout_keeps_the_chosen_language(client, auth, demo):
    auth.login("resident")
    client.post("/lang", data={"lang": "en"})
    auth.logout()
    with client.session_transaction() as session:
        assert session["lang"] == "en"
        assert "_user_id" not in session


# --- registration ---------------------------------------------------------------------------------


def test_resident_can_register_and_is_logged_in(client, demo):
    response = client.post("/register", data=registration())
    assert response.status_code in (302, 303)
    user = db.session.scalar(select(User).where(User.username == "xiaoming"))
    assert user.role == "resident" and user.area_code == GRID and user.name == "王小明"
    resident = db.session.scalar(select(Resident).where(Resident.user_id == user.id))
    assert resident.phone == "13812345678" and resident.grid_code == GRID
    assert "王小明" in text_of(client.get("/account"))


def test_phone_is_accepted_with_spaces_and_country_code(client, demo):
    client.post("/register", data=registration(phone="+86 138-1234-5678"))
    assert db.session.scalar(select(Resident.phone).where(Resident.name == "王小明")) == "13812345678"


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "138123456789", "abcdefghijk", ""])
def test_invalid_phone_is_refused(client, demo, phone):
    before = user_count()
    response = client.post("/register", data=registration(phone=phone))
    assert response.status_code == 200
    assert user_count() == before


def test_short_password_is_refused_and_nothing_is_written(client, demo):
    before = user_count()
    response = client.post("/register", data=registration(password="seven77", confirm="seven77"))
    assert response.status_code == 200
    assert "8 to 128 characters" in text_of(response)
    assert user_count() == before


def test_password_without_digits_or_symbols_is_accepted(client, demo):
    client.post(
        "/register", data=registration(password="onlylowercaseletters", confirm="onlylowercaseletters")
    )
    assert db.session.scalar(select(User).where(User.username == "xiaoming")) is not None


def test_password_longer_than_128_characters_is_refused(client, demo):
    long = "x" * 129
    response = client.post("/register", data=registration(password=long, confirm=long))
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.username == "xiaoming")) is None


def test_mismatched_password_confirmation_is_refused(client, demo):
    response = client.post("/register", data=registration(confirm="something else entirely"))
    assert "do not match" in text_of(response)
    assert db.session.scalar(select(User).where(User.username == "xiaoming")) is None


def test_duplicate_username_is_refused(client, demo):
    before = user_count()
    response = client.post("/register", data=registration(username="resident"))
    assert response.status_code == 200
    assert "already taken" in text_of(response)
    assert user_count() == before
    assert client.get("/account").status_code == 302  # not logged in as anyone


def test_registration_needs_a_real_building(client, demo):
    for building in ("", "0", "999999", "x"):
        response = client.post("/register", data=registration(building=building))
        assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.username == "xiaoming")) is None


def test_registration_cannot_choose_a_role(client, demo):
    client.post("/register", data={**registration(), "role": "admin"})
    assert db.session.scalar(select(User.role).where(User.username == "xiaoming")) == "resident"


# --- account --------------------------------------------------------------------------------------


def test_account_page_masks_phone(client, demo):
    client.post("/register", data=registration())
    page = text_of(client.get("/account"))
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "Resident" in page and "文汇社区" in page


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- language -------------------------------------------------------------------------------------


@pytest.mark.chinese
def test_chinese_is_the_default_language(client):
    assert '<html lang="zh-Hans-CN">' in text_of(client.get("/"))


def test_language_switch_to_english(client, demo):
    response = client.post("/lang", data={"lang": "en", "next": "/register"})
    assert response.status_code in (302, 303) and response.headers["Location"] == "/register"
    assert '<html lang="en">' in text_of(client.get("/"))


def test_language_switch_is_remembered_on_the_account(client, auth, demo):
    auth.login("resident")
    client.get("/lang/en")
    assert db.session.scalar(select(User.locale).where(User.username == "resident")) == "en"


def test_language_switch_does_not_redirect_off_site(client):
    response = client.post(
        "/lang",
        data={"lang": "en", "next": "https://evil.example/"},
        headers={"Referer": "https://evil.example/page"},
    )
    assert response.headers["Location"] == "/"


def test_language_switch_returns_to_the_referring_page(client):
    response = client.get("/lang/en", headers={"Referer": "http://localhost/register?x=1"})
    assert response.headers["Location"] == "/register?x=1"


def test_unknown_language_is_refused(client):
    assert client.get("/lang/xx").status_code == 404
    with client.session_transaction() as session:
        assert "lang" not in session


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_page_shows_the_site_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = text_of(response)
    assert "Page not found" in page and "site-header" in page


def test_unknown_api_path_answers_json_not_html(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json


def test_forbidden_shows_the_site_403_page(app):
    with app.test_request_context("/somewhere"):
        body, status = app.handle_http_exception(Forbidden())
    assert status == 403 and "Not allowed" in body and "site-header" in body


def test_forbidden_on_api_path_is_not_an_html_page(app):
    with app.test_request_context("/api/v1/somewhere"):
        response = app.make_response(app.handle_http_exception(Forbidden()))
    assert response.status_code == 403
    assert "site-header" not in response.get_data(as_text=True)


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf_app(app):
    """An app with CSRF protection on, as in production (built before any test's app context)."""
    settings = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    csrf_app = create_app(settings | {"WTF_CSRF_ENABLED": True, "BABEL_DEFAULT_LOCALE": "en"})
    with csrf_app.app_context():
        db.create_all()
    yield csrf_app
    with csrf_app.app_context():
        db.engine.dispose()


@pytest.fixture
def csrf_client(csrf_app):
    return csrf_app.test_client()


def test_login_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/login", data={"username": "resident", "password": "onegrid-resident"})
    assert response.status_code == 400
    assert "security token" in text_of(response)


def test_login_form_carries_a_csrf_token_that_is_accepted(csrf_client):
    page = text_of(csrf_client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        "/login", data={"username": "nobody", "password": "wrong-password", "csrf_token": token}
    )
    assert response.status_code == 200 and "Wrong username or password." in text_of(response)


def test_logout_without_csrf_token_is_refused(csrf_client):
    assert csrf_client.post("/logout").status_code == 400
