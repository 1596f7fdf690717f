"""Coverage (包抓): managed on the unit's page and by import (per-row errors, dry run, scope), counted per
level on the dashboard, the grid map and in GET /api/v1/stats."""

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Area, AuditLog, Unit
from app.models.coverage import UnitCoverage
from app.services.clock import district_today
from app.services.coverage import coverage, coverage_by_area

pytestmark = pytest.mark.usefixtures("english")

WENHUI = "610404001001"
FINANCE = "咸阳市渭城区财政局"  # checked in to 文汇社区
COURT = "渭城区人民法院"  # checked in to 东风社区, another street
HEADERS = ["单位名称", "网格编码", "开始日期", "结束日期", "备注"]


def unit(name: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.name == name))


def rows_count() -> int:
    return db.session.scalar(select(func.count()).select_from(UnitCoverage))


def sql_coverage(prefix: str) -> dict:
    """The same figure in plain SQL, for comparison."""
    today = district_today().isoformat()
    grids = db.session.execute(
        text("SELECT count(*) FROM area WHERE level = 'grid' AND code LIKE :p"), {"p": prefix + "%"}
    ).scalar()
    covered = db.session.execute(
        text(
            "SELECT count(DISTINCT grid_code) FROM unit_coverage WHERE grid_code LIKE :p "
            "AND since <= :d AND (until IS NULL OR until >= :d)"
        ),
        {"p": prefix + "%", "d": today},
    ).scalar()
    return {"grids": grids, "covered": covered}


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, **options):
    form = {"file": (io.BytesIO(data), "coverage.xlsx"), **{k: "1" for k, v in options.items() if v}}
    return client.post("/admin/coverage_import/", data=form, content_type="multipart/form-data")


def error_rows(page: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for n, column in re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td>([^<]*)</td>', page):
        found.setdefault(int(n), []).append(column)
    return found


def test_the_demo_leaves_some_grids_uncovered_and_the_counts_agree_with_sql(demo):
    for prefix in ("610404", "610404001", WENHUI, "610404002", "610404001001003"):
        assert coverage(prefix) == sql_coverage(prefix)
    total = coverage()
    assert 0 < total["covered"] < total["grids"]
    streets = coverage_by_area("street")
    assert [r["code"] for r in streets] == ["610404001", "610404002", "610404003"]
    assert sum(r["covered"] for r in streets) == total["covered"]


@pytest.mark.parametrize(
    "username, prefix",
    [("admin", "610404"), ("street", "610404001"), ("community", WENHUI), ("grid", "610404001001001")],
)
def test_the_api_stats_give_coverage_in_the_callers_scope(client, demo, username, prefix):
    from test_api import get_as

    body = get_as(client, username, "/api/v1/stats").get_json()
    assert body["coverage"] == sql_coverage(prefix)


def test_the_dashboard_shows_coverage_one_level_down(login_as):
    page = login_as("street").get("/admin/").get_data(as_text=True)
    assert "Grids covered by check-in units" in page
    for row in coverage_by_area("community", "610404001"):
        assert row["name"] in page
    assert "Grids covered by check-in units (包抓) by Street" in login_as("admin").get("/admin/").get_data(
        as_text=True
    )


def test_the_grid_map_measures_covering_units(login_as):
    page = login_as("community").get("/admin/grid_map/?measure=covering_units").get_data(as_text=True)
    assert "Covering units" in page and "There is no measure" not in page


def test_the_units_page_lists_its_grids_and_adds_one_of_its_community(login_as):
    finance = unit(FINANCE)
    client = login_as("community")
    page = client.get(f"/admin/unit/details/?id={finance.id}").get_data(as_text=True)
    assert set(re.findall(r'<tr data-grid="(\d+)">', page)) == {c.grid_code for c in finance.coverage}
    form = client.get(f"/admin/unitcoverage/new/?unit_id={finance.id}").get_data(as_text=True)
    assert f'value="{finance.id}"' in form  # the unit comes filled in
    grid_id = db.session.scalar(select(Area.id).where(Area.code == "610404001001003"))
    since = district_today().isoformat()
    response = client.post(
        "/admin/unitcoverage/new/", data={"unit": finance.id, "grid": grid_id, "since": since}
    )
    assert response.status_code == 302
    assert coverage(WENHUI)["covered"] == 3  # the community's three grids are covered now


def test_the_form_refuses_another_communitys_grid_an_overlap_and_a_reversed_period(login_as):
    finance = unit(FINANCE)
    client = login_as("street")
    before = rows_count()
    other = db.session.scalar(select(Area.id).where(Area.code == "610404001002002"))  # 渭滨社区
    page = client.post(
        "/admin/unitcoverage/new/", data={"unit": finance.id, "grid": other, "since": "2026-03-01"}
    ).get_data(as_text=True)
    assert "A unit covers grids of the community it checked in to" in page
    covered = db.session.scalar(select(Area.id).where(Area.code == "610404001001001"))
    page = client.post(
        "/admin/unitcoverage/new/", data={"unit": finance.id, "grid": covered, "since": "2020-01-01"}
    ).get_data(as_text=True)
    assert "already covers this grid" in page
    page = client.post(
        "/admin/unitcoverage/new/",
        data={"unit": finance.id, "grid": covered, "since": "2020-02-01", "until": "2020-01-01"},
    ).get_data(as_text=True)
    assert "ends before it starts" in page
    assert rows_count() == before


def test_coverage_is_scoped(login_as):
    court_rows = [c.id for c in unit(COURT).coverage]
    client = login_as("community")
    assert client.get(f"/admin/unitcoverage/edit/?id={court_rows[0]}").status_code == 404
    listed = client.get("/admin/unitcoverage/?page_size=100").get_data(as_text=True)
    shown = set(map(int, re.findall(r'name="rowid"[^>]*value="(\d+)"', listed)))
    mine = set(db.session.scalars(select(UnitCoverage.id).where(UnitCoverage.grid_code.like(WENHUI + "%"))))
    assert shown == mine


def test_the_template_names_the_columns(login_as):
    response = login_as("community").get("/admin/coverage_import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS


def test_an_import_with_bad_rows_writes_nothing_and_reports_each(login_as):
    client = login_as("community")
    before = rows_count()
    today = district_today()
    page = upload(
        client,
        xlsx(
            [
                ["国网咸阳供电公司", "610404001001002", today.isoformat(), "", "good"],  # row 2
                ["没有这个单位", "610404001001002", "2026-03-01", "", ""],  # 3: unknown unit
                [FINANCE, "610404001002001", "2026-03-01", "", ""],  # 4: another community's grid
                [FINANCE, "610404001001003", "三月一日", "", ""],  # 5: not a date
                [COURT, "610404002001001", "2026-03-01", "", ""],  # 6: outside the area
                ["国网咸阳供电公司", "610404001001002", (today + timedelta(days=5)).isoformat(), "", ""],  # 7
                [FINANCE, "610404001001003", "2026-03-01", "2026-02-01", ""],  # 8: ends before it starts
            ]
        ),
    ).get_data(as_text=True)
    errors = error_rows(page)
    assert set(errors) == {3, 4, 5, 6, 7, 8}
    assert errors[3] == ["单位名称"] and errors[4] == ["网格编码"] and errors[5] == ["开始日期"]
    assert "单位名称" in errors[6] and "网格编码" in errors[6]
    assert errors[7] == ["开始日期"] and errors[8] == ["结束日期"]
    assert "overlap row 2" in page
    assert rows_count() == before
    dry = upload(client, xlsx([["国网咸阳供电公司", "610404001001002", "2026-03-01", "", ""]]), dry_run=True)
    assert "Dry run: all 1 rows are fine" in dry.get_data(as_text=True) and rows_count() == before
    good = upload(
        client,
        xlsx(
            [
                ["国网咸阳供电公司", "610404001001002", today.isoformat(), "", ""],
                ["没有这个单位", "610404001001002", "2026-03-01", "", ""],
            ]
        ),
        good_rows_only=True,
    )
    assert good.status_code == 200 and rows_count() == before + 1
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "import")).all()[-1]
    assert entry.model == "UnitCoverage" and entry.after["imported"] == 1 and entry.after["refused"] == 1


def test_a_clean_import_lands_and_counts(login_as):
    client = login_as("community")
    today = district_today()
    response = upload(
        client,
        xlsx([[FINANCE, "610404001001003", date(today.year, 1, 1).isoformat(), "", "第三网格"]]),
    )
    assert response.status_code == 302
    assert coverage(WENHUI) == {"grids": 3, "covered": 3} == sql_coverage(WENHUI)


def test_only_managers_import_coverage(login_as):
    assert login_as("grid").get("/admin/coverage_import/").status_code == 403
    assert login_as("member").get("/admin/coverage_import/").status_code == 403
