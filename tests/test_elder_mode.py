"""长辈模式 (适老化): one tap switches it; a cookie keeps it on the device, the account's preference on every
device the person logs in on; the site and the back office both wear it (class "elder" on <html>), and the
back office's pages say their language."""

import html

from sqlalchemy import select

from app.extensions import db
from app.models import User


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def is_elder(response) -> bool:
    return '<html lang="zh-Hans-CN" class="elder">' in text_of(response)


def test_a_visitor_switches_with_one_tap_and_the_device_keeps_it(app, client, demo):
    assert not is_elder(client.get("/"))
    assert 'href="/elder/on?next=/"' in text_of(client.get("/"))
    answer = client.get("/elder/on?next=/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert "og_elder=1" in answer.headers["Set-Cookie"] and "Max-Age=31536000" in answer.headers["Set-Cookie"]
    assert is_elder(client.get("/")) and is_elder(client.get("/login"))
    assert "标准模式" in text_of(client.get("/"))
    assert not is_elder(app.test_client().get("/"))  # another visitor's cached board is not theirs
    client.get("/elder/off")
    assert not is_elder(client.get("/"))


def test_the_account_remembers_it_on_another_device(app, demo, login_as):
    phone = login_as("resident")
    assert phone.post("/elder", data={"elder": "on", "next": "/my/wishes"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(User.elder_mode).where(User.username == "resident")) is True
    assert is_elder(phone.get("/my/wishes"))
    laptop = login_as("resident")  # a fresh client: no cookie, the account's preference applies
    assert is_elder(laptop.get("/"))
    laptop.post("/elder", data={"elder": "off"})
    assert not is_elder(laptop.get("/"))
    db.session.expire_all()
    assert db.session.scalar(select(User.elder_mode).where(User.username == "resident")) is False


def test_the_back_office_says_its_language_and_wears_the_mode(demo, login_as):
    admin = login_as("admin")
    page = text_of(admin.get("/admin/"))
    assert '<html lang="zh-Hans-CN">' in page and "长辈模式" in page
    admin.post("/elder", data={"elder": "on", "next": "/admin/"})
    for path in ("/admin/", "/admin/user/"):
        answer = admin.get(path)
        assert answer.status_code == 200 and is_elder(answer), path
        assert "css/elder.css" in text_of(answer)
