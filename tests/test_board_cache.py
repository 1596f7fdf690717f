"""Visitors get the board from a short-lived cache; logged-in users always get it fresh."""

import pytest
from sqlalchemy import select

from app.extensions import cache, db
from app.models import User
from app.services import wishes


@pytest.fixture
def cached_board(app, demo):
    app.config["BOARD_CACHE_SECONDS"] = 60
    cache.clear()
    yield
    app.config["BOARD_CACHE_SECONDS"] = 0
    cache.clear()


def _publish_new_wish(title: str) -> None:
    users = {u.username: u for u in db.session.scalars(select(User))}
    wish = wishes.post_wish(users["resident"], title=title, description="", category_code="life")
    wishes.publish_wish(users["grid"], wish)
    db.session.commit()


def test_visitors_see_the_cached_board_and_members_see_it_fresh(cached_board, client, login_as):
    first = client.get("/")
    assert first.status_code == 200
    assert "Set-Cookie" not in first.headers  # nothing personal, no session: safe to share
    _publish_new_wish("新发布的心愿")
    assert "新发布的心愿" not in client.get("/").get_data(as_text=True)
    assert "新发布的心愿" in login_as("member").get("/").get_data(as_text=True)
    cache.clear()
    assert "新发布的心愿" in client.get("/").get_data(as_text=True)


def test_each_language_and_filter_is_cached_apart(cached_board, client):
    chinese = client.get("/?category=elderly").get_data(as_text=True)
    english = client.get("/?category=elderly&lang=en").get_data(as_text=True)
    assert chinese != english
    assert "咨询租房合同纠纷" in client.get("/?category=legal").get_data(as_text=True)
    assert "咨询租房合同纠纷" not in client.get("/?category=elderly").get_data(as_text=True)
