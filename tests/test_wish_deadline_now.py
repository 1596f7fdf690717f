"""A wish shows only the deadline that matters now, named, "2099-12-03 10:01 到期" (Beijing time, to the
minute): the review deadline while it waits, the claim deadline while published, the completion deadline
while claimed, none once rejected or finished. One rule (app.services.wish_deadlines.deadline_now) for the
site, the back office and the API."""

import html
import re
from datetime import UTC, datetime

from sqlalchemy import select
from test_api_wishes import Caller

from app.extensions import db
from app.models import User, Wish
from app.services import wishes as service

NAMES = {"review": "审核期限", "claim": "认领期限", "complete": "完成期限"}
BY_STATUS = {
    "修理漏水的水龙头": "review",  # submitted
    "陪老人去医院复查": "claim",  # published
    "孩子周末数学辅导": "complete",  # claimed
}


def wish_titled(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def page(client, wish: Wish) -> str:
    return html.unescape(client.get(f"/wishes/{wish.id}").get_data(as_text=True))


def test_the_rule_names_the_deadline_of_the_present_status(demo):
    for title, kind in BY_STATUS.items():
        deadline = service.deadline_now(wish_titled(title))
        assert deadline is not None and deadline.kind == kind and str(deadline.label) == NAMES[kind]
    assert service.deadline_now(wish_titled("楼道声控灯不亮")) is None  # done
    assert service.deadline_now(wish_titled("帮父亲买降压药")) is None  # confirmed


def test_the_owner_sees_one_named_deadline_in_beijing_time_to_the_minute(login_as):
    resident = login_as("resident")
    for title, kind in BY_STATUS.items():
        wish = wish_titled(title)
        wish.respond_by = wish.reply_by = wish.resolve_by = datetime(2099, 12, 3, 2, 1, 30, tzinfo=UTC)
        db.session.commit()
        text = page(resident, wish)
        assert NAMES[kind] in text, title
        assert [name for name in NAMES.values() if name in text] == [NAMES[kind]]
        assert "2099-12-03 10:01 到期" in text  # 02:01 UTC is 10:01 in Beijing, no seconds
        assert not re.search(r"2099-12-03 10:01:\d\d", text)  # the page's other times are today's


def test_a_rejected_or_finished_wish_lists_no_deadline(login_as):
    resident = login_as("resident")
    wish = wish_titled("修理漏水的水龙头")
    grid = db.session.scalar(select(User).where(User.username == "grid"))
    service.reject_wish(grid, wish, "不属于微心愿范围")
    db.session.commit()
    for title in ("修理漏水的水龙头", "楼道声控灯不亮", "帮父亲买降压药"):
        text = page(resident, wish_titled(title))
        assert not any(name in text for name in NAMES.values()), title
        assert "到期" not in text


def test_my_wishes_name_each_rows_deadline(login_as):
    text = html.unescape(login_as("resident").get("/my/wishes").get_data(as_text=True))
    assert 'data-deadline="review"' in text and "审核期限" in text
    assert 'data-deadline="claim"' in text and "认领期限" in text


def test_the_back_office_names_the_deadline(login_as):
    wish = wish_titled("修理漏水的水龙头")
    text = html.unescape(login_as("grid").get(f"/admin/wish/details/?id={wish.id}").get_data(as_text=True))
    assert (
        "审核期限" in text and "认领期限" not in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d 到期", text)
    )


def test_the_api_gives_the_deadline_that_matters_now(client, demo):
    caller = Caller(client, "resident")
    for title, kind in BY_STATUS.items():
        wish = wish_titled(title)
        body = caller.get(f"/api/v1/wishes/{wish.id}").get_json()
        assert body["deadline"]["kind"] == kind
        assert datetime.fromisoformat(body["deadline"]["at"]) == service.deadline_now(wish).at.replace(
            tzinfo=UTC
        ) or body["deadline"]["at"].endswith("+00:00")
    done = wish_titled("楼道声控灯不亮")
    assert caller.get(f"/api/v1/wishes/{done.id}").get_json()["deadline"] is None
