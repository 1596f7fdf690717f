"""Back-office times: one format (date, or date and minute) on the district's clock, in lists, details and
exports alike; never a UTC time with seconds' fractions."""

import csv
import io
import re
from datetime import datetime

from openpyxl import load_workbook

from app.extensions import db
from app.models import User

FRACTION = re.compile(r"\d\d:\d\d:\d\d\.\d")
SECONDS = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


def model_views(app):
    return [v for v in app.extensions["admin"][0]._views if hasattr(v, "model")]


def _mark_login(username: str) -> None:
    user = db.session.scalar(db.select(User).where(User.username == username))
    user.last_login_at = datetime(2026, 3, 1, 17, 45, 12, 345678)  # UTC: 2026-03-02 01:45 in Beijing
    db.session.commit()


def test_every_list_and_details_page_shows_times_without_fractions(app, login_as):
    client = login_as("admin")
    _mark_login("grid")
    for view in model_views(app):
        page = client.get(view.url + "/")
        assert page.status_code == 200, view.url
        text = page.get_data(as_text=True)
        assert not FRACTION.search(text), (view.url, FRACTION.search(text).group())
        if not view.can_view_details:
            continue
        row = db.session.scalars(db.select(view.model.id).order_by(view.model.id.desc())).first()
        if row is None:
            continue
        details = client.get(f"{view.url}/details/?id={row}")
        if details.status_code == 404:  # a view showing only some rows of its model (a queue)
            continue
        assert details.status_code == 200, view.url
        text = details.get_data(as_text=True)
        assert not FRACTION.search(text), (view.url, FRACTION.search(text).group())
        assert not SECONDS.search(text), (view.url, SECONDS.search(text).group())


def test_users_last_login_is_beijing_time_to_the_minute(login_as):
    client = login_as("admin")
    _mark_login("grid")
    grid = db.session.scalar(db.select(User.id).where(User.username == "grid"))
    listed = client.get("/admin/user/?search=grid").get_data(as_text=True)
    assert "2026-03-02 01:45" in listed
    details = client.get(f"/admin/user/details/?id={grid}").get_data(as_text=True)
    assert "2026-03-02 01:45" in details and "17:45" not in details


def test_exports_carry_the_same_times(login_as):
    client = login_as("admin")
    _mark_login("grid")
    response = client.get("/admin/user/export/csv/?search=grid")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    cells = [c for row in rows for c in row]
    assert "2026-03-02 01:45" in cells
    assert not any(FRACTION.search(c) or SECONDS.search(c) for c in cells)
    sheet = load_workbook(io.BytesIO(client.get("/admin/user/export/xlsx/?search=grid").data)).active
    values = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "2026-03-02 01:45" in values
    assert not any(FRACTION.search(v) or SECONDS.search(v) for v in values)


def test_a_grids_page_shows_its_creation_in_beijing_time(login_as):
    from app.models import Area

    client = login_as("admin")
    grid = db.session.scalar(db.select(Area).where(Area.level == "grid").order_by(Area.id))
    grid.created_at = datetime(2026, 1, 31, 16, 30, 5, 123456)
    db.session.commit()
    text = client.get(f"/admin/area/details/?id={grid.id}").get_data(as_text=True)
    assert "2026-02-01 00:30" in text and not FRACTION.search(text)
