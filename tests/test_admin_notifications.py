"""The back office: the unread count in its header, the user's own notification list, the gateway flag of an endpoint."""

import re

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Notification, User
from app.models.webhooks import WebhookEndpoint
from app.services import notifications
from tests.test_webhooks import Receiver, allow_private  # noqa: F401

pytestmark = pytest.mark.chinese


@pytest.fixture
def ids(demo):
    db.session.execute(delete(Notification))  # the demo's call-up has notified its members: start empty
    db.session.commit()
    return {u.username: u.id for u in db.session.scalars(select(User))}


def unread_in_header(html: str) -> str:
    return re.search(r'data-unread="(\d+)"', html).group(1)


def test_staff_see_their_unread_count_and_list_and_open_their_own(login_as, ids):
    notifications.send("review_queue", [ids["grid"]], title="新心愿待审核", link="/admin/wish_review/")
    notifications.send("supervision", [ids["grid"]], title="督办：路灯不亮", body="请今日处理")
    notifications.send("review_queue", [ids["community"]], title="社区的通知")
    db.session.commit()
    grid = login_as("grid")
    home = grid.get("/admin/").get_data(as_text=True)
    assert unread_in_header(home) == "2" and "通知" in home
    listing = grid.get("/admin/my_notifications/").get_data(as_text=True)
    assert listing.index("督办：路灯不亮") < listing.index("新心愿待审核") and "社区的通知" not in listing
    assert listing.count("list-group-item-warning") == 2

    mine = db.session.scalar(select(Notification.id).where(Notification.title == "新心愿待审核"))
    opened = grid.post("/admin/my_notifications/open", data={"id": mine})
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/admin/wish_review/")
    assert unread_in_header(grid.get("/admin/").get_data(as_text=True)) == "1"
    theirs = db.session.scalar(select(Notification.id).where(Notification.title == "社区的通知"))
    assert grid.post("/admin/my_notifications/open", data={"id": theirs}).status_code == 404
    assert grid.post("/admin/my_notifications/").status_code == 303
    assert unread_in_header(grid.get("/admin/").get_data(as_text=True)) == "0"
    assert "社区的通知" in login_as("community").get("/admin/my_notifications/?unread=1").get_data(
        as_text=True
    )


def test_residents_have_no_back_office_list(login_as, ids):
    assert login_as("resident").get("/admin/my_notifications/").status_code == 403


def test_an_admin_marks_an_endpoint_as_the_gateway_without_topics(httpserver, login_as, ids):
    admin = login_as("admin")
    form = admin.get("/admin/webhookendpoint/new/").get_data(as_text=True)
    assert "短信/微信网关" in form
    url = Receiver(httpserver, "/sms").url
    response = admin.post(
        "/admin/webhookendpoint/new/",
        data={"url": url, "description": "区短信平台", "gateway": "y", "active": "y"},
    )
    assert response.status_code in (302, 303)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.gateway is True and endpoint.event_types == []
    # without the flag, an endpoint still needs a topic
    refused = admin.post("/admin/webhookendpoint/new/", data={"url": url, "active": "y"})
    assert (
        refused.status_code == 200
        and db.session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.id != endpoint.id)) is None
    )
