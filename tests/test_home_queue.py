"""The back-office home's "my queue": counts first, fresh, shaped by role, each a link to a list showing those rows."""

import html
import re

import pytest
from sqlalchemy import select

from app.extensions import cache, db
from app.models import User, Wish
from app.models.choices import WishStatus
from app.services import wishes

pytestmark = pytest.mark.usefixtures("english")

ROLES = {
    "grid": {"events", "supervisions", "reviews", "callbacks", "visits", "callups"},
    "community": {"events", "supervisions", "reviews", "callbacks", "visits", "callups"},
    "street": {"events", "supervisions", "reviews", "callbacks", "visits", "callups"},
    "admin": {"events", "supervisions", "reviews", "callbacks", "visits", "callups"},
    "dept": {"dispatches"},
}


def queue(page: str) -> dict[str, tuple[int, str]]:
    """{key: (count, url)} of the queue's cards."""
    items = re.findall(
        r'data-queue="(\w+)" data-queue-url="([^"]+)">.*?data-queue-count="\1">(\d+)<', page, re.DOTALL
    )
    return {key: (int(n), html.unescape(url)) for key, url, n in items}


def rows(page: str) -> int:
    """The rows of a list page's table (not the "no items" row); on the compliance page, its households."""
    if 'data-compliance="households"' in page:
        return len(re.findall(r"<tr data-household=", page))
    body = page.split('class="table table-striped table-bordered table-hover model-list"', 1)[1]
    body = body.split("</table>", 1)[0].split("</thead>", 1)[1]
    return len(re.findall(r"<tr[ >]", body)) - body.count('colspan="999"')


@pytest.mark.parametrize("username", list(ROLES))
def test_each_figure_of_my_queue_is_the_number_of_rows_its_link_shows(login_as, username):
    client = login_as(username)
    page = client.get("/admin/").get_data(as_text=True)
    items = queue(page)
    assert ROLES[username] <= set(items), items
    assert page.index('id="og-my-queue"') < page.find('class="og-counts') or 'class="og-counts' not in page
    for key, (count, url) in items.items():
        listed = client.get(url + ("&" if "?" in url else "?") + "page_size=100")
        assert listed.status_code == 200, (key, url)
        assert rows(listed.get_data(as_text=True)) == count, (username, key, url)
    if username in ("admin", "street"):
        assert sum(count for count, _url in items.values()) > 0


def test_grid_worker_sees_their_grid_no_community_figures_and_no_charts(login_as):
    page = login_as("grid").get("/admin/").get_data(as_text=True)
    assert 'data-count="communities"' not in page and 'data-count="grids"' not in page
    assert 'data-count="residents"' in page
    assert "data-section=" not in page and "echarts" not in page
    dept = login_as("dept").get("/admin/").get_data(as_text=True)
    assert "data-section=" not in dept and 'data-queue="dispatches"' in dept
    community = login_as("community").get("/admin/").get_data(as_text=True)
    assert 'data-section="events-status"' in community and 'data-count="communities"' not in community
    assert community.index('id="og-my-queue"') < community.index('data-section="events-status"')


def test_the_queue_is_fresh_after_ones_own_work_even_with_the_charts_cached(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 300)
    cache.clear()
    try:
        grid = db.session.scalar(select(User).where(User.username == "grid"))
        resident = db.session.scalar(select(User).where(User.username == "resident"))
        wish = wishes.post_wish(resident, title="帮忙修门锁", description="", category_code="life")
        db.session.commit()
        client = login_as("grid")
        before = queue(client.get("/admin/").get_data(as_text=True))["reviews"][0]
        assert (
            before
            == db.session.query(Wish).filter_by(status=WishStatus.SUBMITTED, grid_code=wish.grid_code).count()
        )
        wishes.publish_wish(grid, wish)
        db.session.commit()
        assert queue(client.get("/admin/").get_data(as_text=True))["reviews"][0] == before - 1
    finally:
        cache.clear()


def test_work_logs_awaiting_my_signature_link_to_exactly_those_logs(login_as):
    from app.models.worklogs import WorkLog
    from app.services import worklogs
    from app.services.clock import district_today

    author = db.session.scalar(select(User).where(User.username == "grid"))
    worklogs.write_log(author, author.area.code, district_today(), "入户走访三户")
    db.session.commit()
    leader = login_as("leader")
    items = queue(leader.get("/admin/").get_data(as_text=True))
    count, url = items["signatures"]
    awaiting = db.session.scalars(select(WorkLog).where(WorkLog.status == "awaiting")).all()
    assert count >= 1 and count <= len(awaiting)
    listed = leader.get(url).get_data(as_text=True)
    assert rows(listed) == count and "入户走访三户" in listed
    assert "signatures" not in queue(login_as("grid2").get("/admin/").get_data(as_text=True))
