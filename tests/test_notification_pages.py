"""The inbox on the site: the header's unread count, the list, opening one, all read, the settings page."""

import re

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, User, WishCategory
from app.services import notification_preferences, notifications

pytestmark = pytest.mark.chinese


@pytest.fixture
def ids(demo):
    db.session.execute(delete(Notification))  # the demo's call-up has notified its members: start empty
    db.session.commit()
    return {u.username: u.id for u in db.session.scalars(select(User))}


def badge(html: str) -> str | None:
    found = re.search(r'data-unread="(\d+)"', html)
    return found.group(1) if found else None


def test_the_header_counts_unread_notifications_and_the_inbox_lists_them_newest_first(login_as, ids):
    notifications.send("new_wish", [ids["member"]], title="第一条", link="/wishes/1")
    notifications.send("callup", [ids["member"]], title="紧急集结", body="请到社区报到", link="/callups/9")
    notifications.send("new_wish", [ids["resident"]], title="别人的通知")
    db.session.commit()
    member = login_as("member")
    home = member.get("/").get_data(as_text=True)
    assert badge(home) == "2"
    page = member.get("/my/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("紧急集结") < html.index("第一条") and "别人的通知" not in html
    assert html.count("notice-unread") == 2 and "notice-urgent" in html
    assert "通知" in html and "全部标为已读" in html

    newest = db.session.scalars(select(Notification).where(Notification.title == "紧急集结")).one()
    opened = member.post(f"/my/notifications/{newest.id}/open")
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/callups/9")
    assert badge(member.get("/").get_data(as_text=True)) == "1"
    assert "紧急集结" not in member.get("/my/notifications?unread=1").get_data(as_text=True)

    theirs = db.session.scalars(select(Notification).where(Notification.title == "别人的通知")).one()
    assert member.post(f"/my/notifications/{theirs.id}/open").status_code == 404
    assert member.post("/my/notifications/99999999999/open").status_code == 404
    assert member.post("/my/notifications/read-all").status_code == 303
    assert badge(member.get("/").get_data(as_text=True)) == "0"
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_visitors_see_no_count_and_the_inbox_asks_them_to_log_in(client, demo):
    assert badge(client.get("/").get_data(as_text=True)) is None
    response = client.get("/my/notifications")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_the_inbox_pages_and_refuses_pages_past_its_end(login_as, ids):
    for number in range(25):
        notifications.send("new_wish", [ids["member"]], title=f"心愿{number:02d}")
    db.session.commit()
    member = login_as("member")
    first = member.get("/my/notifications").get_data(as_text=True)
    assert "心愿24" in first and "心愿04" not in first and 'rel="next"' in first
    second = member.get("/my/notifications?page=2").get_data(as_text=True)
    assert "心愿04" in second and "心愿00" in second and 'rel="next"' not in second
    assert member.get("/my/notifications?page=3").status_code == 404
    assert member.get("/my/notifications?page=abc").status_code == 200  # a nonsense page is the first
    assert member.get("/my/notifications?page=99999999999999").status_code == 404


def test_settings_mute_kinds_and_categories_keep_call_ups_on_and_set_quiet_hours(login_as, ids):
    member = login_as("member")
    html = member.get("/my/notifications/settings").get_data(as_text=True)
    assert re.search(r'<input type="checkbox" checked disabled> 紧急召集', html)  # always on
    assert 'name="kind" value="callup"' not in html
    categories = list(db.session.scalars(select(WishCategory).where(WishCategory.active.is_(True))))
    kept, dropped = categories[0], categories[1]
    wanted = ["new_wish", "claim_released", "wish_disputed", "certificate_ready", "report_accepted"]
    response = member.post(
        "/my/notifications/settings",
        data={
            "kind": wanted,
            "category": [str(c.id) for c in categories if c.id != dropped.id],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )
    assert response.status_code == 303
    stored = notification_preferences.preferences(db.session.get(User, ids["member"]))
    assert "visits_due" in stored.muted_kinds and "new_wish" not in stored.muted_kinds
    assert "callup" not in stored.muted_kinds
    assert stored.muted_categories == [dropped.id] and (stored.quiet_start, stored.quiet_end) == (
        "22:00",
        "07:00",
    )
    assert notifications.send("new_wish", [ids["member"]], title="x", category_id=dropped.id) == 0
    assert notifications.send("new_wish", [ids["member"]], title="x", category_id=kept.id) == 1
    assert notifications.send("visits_due", [ids["member"]], title="x") == 0
    assert notifications.send("callup", [ids["member"]], title="x") == 1
    # a wrong time is shown again with its message, and nothing is stored
    wrong = member.post("/my/notifications/settings", data={"kind": wanted, "quiet_start": "22:00"})
    assert wrong.status_code == 422 and "免打扰时段须同时填写" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert notification_preferences.preferences(db.session.get(User, ids["member"])).quiet_start == "22:00"


def test_residents_and_staff_are_offered_their_own_kinds(login_as):
    resident = login_as("resident").get("/my/notifications/settings").get_data(as_text=True)
    assert 'value="wish_claimed"' in resident and 'value="review_queue"' not in resident
    assert 'name="category"' not in resident
    grid = login_as("grid").get("/my/notifications/settings").get_data(as_text=True)
    assert 'value="review_queue"' in grid and 'value="wish_claimed"' not in grid
