"""Back-office list wording: the page-size menu in Chinese, an empty supervision list saying why."""

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models.events import Supervision


def test_the_page_size_menu_reads_in_chinese(login_as):
    page = login_as("admin").get("/admin/resident/").get_data(as_text=True)
    assert not re.search(r"\d+ items?\b", page)
    assert "每页 20 条" in page and "每页 50 条" in page and "每页 100 条" in page


def test_an_empty_supervision_list_says_the_default_filter_hides_the_settled(login_as):
    assert db.session.scalar(select(func.count()).select_from(Supervision)) == 0
    client = login_as("community")
    page = client.get("/admin/supervision/").get_data(as_text=True)
    assert "默认只显示未办结的督办通知" in page
    link = re.search(
        r'data-empty="default-filter">[^<]*<a href="([^"]+)">清除筛选，查看全部</a>', page
    ).group(1)
    everything = client.get(link.replace("&amp;", "&"))
    assert everything.status_code == 200
    text = everything.get_data(as_text=True)
    assert "默认只显示" not in text  # the user chose a state: the plain empty message
