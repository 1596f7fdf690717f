"""The grid's red station (网格红色驿站): its public page and JSON, what it never shows, its wall poster."""

import re
import subprocess

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Area, Member, Resident, Unit, User, Wish
from app.models.badges import Printout
from app.models.choices import WishStatus
from app.services import stations
from app.services.coverage import covering_units
from app.services.masking import mask_name
from app.services.teams import grid_team

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"  # 文汇社区第一网格
COMMUNITY = GRID[:12]
UNCOVERED = "610404001001003"  # 文汇社区第三网格: no unit covers it in the demo


@pytest.fixture(autouse=True)
def printout_dir(app, tmp_path):
    """Each test's printouts go to a folder of its own."""
    before = app.config.get("PRINTOUT_DIR")
    app.config["PRINTOUT_DIR"] = str(tmp_path / "printouts")
    yield tmp_path / "printouts"
    app.config["PRINTOUT_DIR"] = before


def pdf_text(path) -> str:
    """The PDF's text without white space (titles are letter-spaced, tables wrap)."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def community_phone() -> str:
    return db.session.scalar(select(Area.supervision_phone).where(Area.code == COMMUNITY))


def test_station_page_of_a_demo_grid_shows_its_team_and_covering_units(client, demo):
    team, units = grid_team(GRID), covering_units(GRID)
    assert len(team) >= 5 and len(units) >= 2  # the demo's five-for-one and two covering units
    page = client.get(f"/grids/{GRID}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "文汇社区第一网格" in html
    for place in team:
        assert place.name in html and place.role_label in html
        if place.phone:
            assert f'href="tel:{place.phone}"' in html  # one tap to call the work phone
    for unit in units:
        assert unit.name in html
    assert "每月开展一次进社区志愿服务" in html  # a covering unit's pledge
    assert community_phone() in html  # the supervision phone, from the community
    members = db.session.scalars(
        select(Member).where(Member.grid_code == GRID, Member.active.is_(True))
    ).all()
    assert f"data-members-count>{len(members)}<" in html


def test_a_unit_that_covers_no_grid_is_not_on_its_station(client, demo):
    covering = {u.name for u in covering_units(UNCOVERED)}
    assert covering == set()
    html = client.get(f"/grids/{UNCOVERED}").get_data(as_text=True)
    assert "No unit covers this grid yet." in html
    for name in db.session.scalars(select(Unit.name)):
        assert name not in html


def test_station_never_shows_residents_or_private_phones(client, demo):
    html = client.get(f"/grids/{GRID}").get_data(as_text=True)
    body = client.get(f"/api/v1/grids/{GRID}").get_data(as_text=True)
    private = [
        *db.session.scalars(select(Resident.phone).where(Resident.phone.is_not(None))),
        *db.session.scalars(select(Member.phone).where(Member.phone.is_not(None))),
        *db.session.scalars(select(Unit.contact_phone).where(Unit.contact_phone.is_not(None))),
    ]
    assert len(private) > 20
    for phone in private:
        assert phone not in html and phone not in body
    published = {p.name for p in grid_team(GRID)}
    residents = [r.name for r in db.session.scalars(select(Resident).where(Resident.grid_code == GRID))]
    assert residents
    for name in residents:
        if name not in published:  # a resident who is on the team is published as a team member
            assert name not in html and name not in body


def test_fulfilled_wishes_show_with_their_owners_masked(client, demo):
    wish = db.session.scalar(select(Wish).where(Wish.grid_code == GRID, Wish.status == WishStatus.CONFIRMED))
    assert wish is not None, "the demo has a confirmed wish in the grid"
    owner = wish.owner_name
    html = client.get(f"/grids/{GRID}").get_data(as_text=True)
    body = client.get(f"/api/v1/grids/{GRID}").get_json()
    assert wish.title in html
    assert mask_name(owner) in html and owner not in html
    assert [w["owner"] for w in body["wishes_done"]] == [mask_name(owner)]


def test_json_holds_the_same_station(client, demo):
    response = client.get(f"/api/v1/grids/{GRID}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["grid"]["code"] == GRID and body["grid"]["short_name"] == "文汇社区第一网格"
    assert body["community"] == {"code": COMMUNITY, "name": "文汇社区"}
    assert [p["name"] for p in body["team"]] == [p.name for p in grid_team(GRID)]
    assert [u["name"] for u in body["units"]] == [u.name for u in covering_units(GRID)]
    assert all(u["pledges"] for u in body["units"])
    assert body["supervision_phone"] == community_phone()
    assert body["url"].endswith(f"/grids/{GRID}")
    count = len(db.session.scalars(select(Member.id).where(Member.grid_code == GRID, Member.active)).all())
    assert body["members"]["count"] == count
    expected = stations.station(GRID)
    assert body["members"]["hours"] == float(expected["members"]["hours"])
    html = client.get(f"/grids/{GRID}").get_data(as_text=True)
    for unit in body["units"]:
        for pledge in unit["pledges"]:
            assert pledge["title"] in html


@pytest.mark.parametrize(
    "code",
    ["610404001001999", COMMUNITY, "610404001", "abc", "6104040010010011", "６１０４０４００１００１００１"],
)
def test_unknown_or_non_grid_codes_are_404(client, demo, code):
    assert client.get(f"/grids/{code}").status_code == 404
    response = client.get(f"/api/v1/grids/{code}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_supervision_phone_falls_back_up_the_tree_then_to_the_setting(app, client, demo):
    grid = db.session.scalar(select(Area).where(Area.code == GRID))
    grid.supervision_phone = "029-88886666"
    db.session.commit()
    assert client.get(f"/api/v1/grids/{GRID}").get_json()["supervision_phone"] == "029-88886666"
    db.session.execute(Area.__table__.update().values(supervision_phone=None))
    db.session.commit()
    assert client.get(f"/api/v1/grids/{GRID}").get_json()["supervision_phone"] is None
    app.config["SUPERVISION_PHONE"] = "12345"
    try:
        assert client.get(f"/api/v1/grids/{GRID}").get_json()["supervision_phone"] == "12345"
        assert "12345" in client.get(f"/grids/{GRID}").get_data(as_text=True)
    finally:
        app.config["SUPERVISION_PHONE"] = ""


def test_board_links_each_grid_to_its_station(client, demo):
    html = client.get("/").get_data(as_text=True)
    linked = set(re.findall(r'href="/grids/(\d{15})"', html))
    published = set(db.session.scalars(select(Wish.grid_code).where(Wish.status == WishStatus.PUBLISHED)))
    assert published and published <= linked
    html = client.get(f"/?grid={GRID}").get_data(as_text=True)
    assert f'href="/grids/{GRID}" data-station-link' in html
    assert client.get(f"/grids/{next(iter(linked))}").status_code == 200


def test_visitors_share_a_cached_station_for_a_while(app, client, demo):
    app.config["STATION_CACHE_SECONDS"] = 60
    try:
        assert client.get(f"/grids/{GRID}").status_code == 200
        grid = db.session.scalar(select(Area).where(Area.code == GRID))
        grid.supervision_phone = "029-11112222"
        db.session.commit()
        assert "029-11112222" not in client.get(f"/grids/{GRID}").get_data(as_text=True)
        # the JSON is never cached: clients polling it see changes at once
        assert client.get(f"/api/v1/grids/{GRID}").get_json()["supervision_phone"] == "029-11112222"
    finally:
        app.config["STATION_CACHE_SECONDS"] = 0
        from app.extensions import cache

        cache.clear()


def test_staff_get_the_station_poster_with_the_grid_name_and_supervision_phone(login_as, printout_dir):
    staff = login_as("community")
    grid = db.session.scalar(select(Area).where(Area.code == GRID))
    details = staff.get(f"/admin/area/details/?id={grid.id}").get_data(as_text=True)
    assert 'data-station-action="poster"' in details
    response = staff.post("/admin/printout/poster/", data={"grid": GRID})
    assert response.status_code == 302
    printout = db.session.scalar(select(Printout).order_by(Printout.id.desc()))
    assert printout is not None and printout.status == "ready"  # rendered by its job (in-process here)
    assert f"/admin/printout/details/?id={printout.id}" in response.headers["Location"]
    pdf = staff.get(f"/admin/printout/download/?id={printout.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = printout_dir / "poster.pdf"
    path.write_bytes(pdf.data)
    text = pdf_text(path)
    assert "文汇社区第一网格" in text
    assert community_phone() in text
    assert "网格红色驿站" in text
    for place in grid_team(GRID):
        assert place.name in text


def test_poster_of_another_area_is_refused(login_as):
    staff = login_as("grid2")  # the grid worker of 文汇社区第二网格
    assert staff.post("/admin/printout/poster/", data={"grid": GRID}).status_code == 404
    assert staff.post("/admin/printout/poster/", data={"grid": "610404001001999"}).status_code == 404
    assert db.session.scalar(select(Printout.id)) is None


def test_resident_and_anonymous_visitors_cannot_ask_for_a_poster(client, login_as):
    assert client.post("/admin/printout/poster/", data={"grid": GRID}).status_code in (302, 403)
    resident = login_as("resident")
    assert resident.post("/admin/printout/poster/", data={"grid": GRID}).status_code == 403
    assert db.session.scalar(select(Printout.id)) is None
    assert db.session.scalar(select(User.id).where(User.username == "resident")) is not None


def test_printouts_older_than_a_week_are_removed_with_their_pdfs(login_as, printout_dir):
    from datetime import timedelta

    from app.jobs.scheduler import run_periodic
    from app.models.base import utcnow

    staff = login_as("community")
    staff.post("/admin/printout/poster/", data={"grid": GRID})
    staff.post("/admin/printout/poster/", data={"grid": GRID})
    old, new = db.session.scalars(select(Printout).order_by(Printout.id)).all()
    old_pdf, new_pdf = printout_dir / old.pdf_path, printout_dir / new.pdf_path
    assert old_pdf.is_file() and new_pdf.is_file()
    old.created_at = utcnow() - timedelta(days=8)
    new_id = new.id
    db.session.commit()
    assert run_periodic("printout_cleanup") == "printout_cleanup: 1"
    assert db.session.scalars(select(Printout.id)).all() == [new_id]
    assert not old_pdf.exists() and new_pdf.is_file()
