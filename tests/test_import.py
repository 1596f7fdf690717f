"""Bulk import of residents: every row checked, all or nothing by default, per-row reports, scope, limits."""

import base64
import csv
import io
import re
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from admin.views.census import ResidentAdmin
from app.extensions import db
from app.models import AuditLog, Building, Household, Resident, Room
from app.services.idcard import make_id_number

pytestmark = pytest.mark.usefixtures("english")

GRID_A = "610404001001001"  # the demo grid worker "grid"
GRID_B = "610404001001002"  # the demo grid worker "grid2"
HEADERS = ["姓名", "身份证号", "手机号", "网格编码", "楼栋", "房间号", "与户主关系", "民族", "标签"]


def person(i: int, grid: str = GRID_A, **overrides) -> dict:
    """A valid row; sequence numbers from 600 up never meet the demo's ID numbers."""
    row = {
        "姓名": f"导入{i}",
        "身份证号": make_id_number("610404", date(1985, 5, 5), 600 + i),
        "手机号": f"139{i:08d}",
        "网格编码": grid,
        "楼栋": "",
        "房间号": "",
        "与户主关系": "",
        "民族": "汉族",
        "标签": "",
    }
    row.update(overrides)
    return row


def as_csv(rows: list[dict], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows([[r[h] for h in HEADERS] for r in rows])
    return buffer.getvalue().encode(encoding)


def as_xlsx(rows: list[dict], title: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append([r[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def resident_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Resident))


def upload(client, data: bytes, filename: str = "residents.csv", good_rows_only: bool = False):
    form = {"file": (io.BytesIO(data), filename)}
    if good_rows_only:
        form["good_rows_only"] = "1"
    return client.post("/admin/resident_import/", data=form, content_type="multipart/form-data")


def error_rows(page: str) -> dict[int, str]:
    """{row number: column} of the error table on the result page."""
    return {int(n): col for n, col in re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td>([^<]*)</td>', page)}


def three_bad_rows() -> list[dict]:
    """Ten rows: row 4 a wrong check digit, row 6 an unknown grid, row 9 repeats row 2's ID number."""
    rows = [person(i) for i in range(10)]
    good_id = rows[2]["身份证号"]
    rows[2]["身份证号"] = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    rows[4]["网格编码"] = "610404009009009"
    rows[7]["身份证号"] = rows[0]["身份证号"]
    return rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_good_csv_file_imports_every_row_whatever_its_encoding(login_as, encoding):
    before = resident_count()
    response = upload(login_as("grid"), as_csv([person(i) for i in range(25)], encoding))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/resident/")
    assert resident_count() == before + 25
    imported = db.session.scalars(select(Resident).where(Resident.name == "导入3")).one()
    assert imported.grid_code == GRID_A and imported.birth_date == date(1985, 5, 5)
    assert imported.ethnicity == "汉族" and imported.gender in ("male", "female")
    entry = db.session.scalars(
        select(AuditLog).where(AuditLog.model == "Resident", AuditLog.username == "grid")
    ).one()
    assert (entry.action, entry.area_code) == ("import", GRID_A)
    assert entry.after["imported"] == 25 and entry.after["refused"] == 0


def test_a_good_xlsx_file_with_a_title_row_imports_every_row(login_as):
    before = resident_count()
    rows = [person(i, 楼栋="1号楼", 房间号="1-1-101") for i in range(5)]
    rows[0]["标签"] = "Veteran、Party member"
    response = upload(login_as("grid"), as_xlsx(rows, title="文汇社区第一网格居民信息表"), "居民.xlsx")
    assert response.status_code == 302
    assert resident_count() == before + 5
    room = db.session.scalars(
        select(Room)
        .join(Building)
        .where(Building.grid_code == GRID_A, Building.name == "1号楼", Room.number == "1-1-101")
    ).one()
    household = db.session.scalars(
        select(Household).where(Household.room_id == room.id).order_by(Household.id)
    ).first()
    veteran = db.session.scalars(select(Resident).where(Resident.name == "导入0")).one()
    assert veteran.household_id == household.id and veteran.tags == "veteran,party_member"


def test_residents_of_a_room_without_a_household_get_one_headed_by_the_head(login_as):
    building = db.session.scalars(select(Building).where(Building.grid_code == GRID_A)).first()
    db.session.add(Room(grid_code=GRID_A, building_id=building.id, number="9-9-909"))
    db.session.commit()
    rows = [
        person(1, 楼栋=building.name, 房间号="9-9-909"),
        person(2, 楼栋=building.name, 房间号="9-9-909", 与户主关系="户主"),
    ]
    assert upload(login_as("grid"), as_csv(rows)).status_code == 302
    people = db.session.scalars(select(Resident).where(Resident.name.in_(["导入1", "导入2"]))).all()
    assert len({p.household_id for p in people}) == 1 and people[0].household_id is not None
    assert db.session.get(Household, people[0].household_id).head_name == "导入2"


def test_a_file_with_three_bad_rows_imports_nothing_and_names_exactly_those_rows(login_as):
    before = resident_count()
    response = upload(login_as("grid"), as_csv(three_bad_rows()))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert resident_count() == before
    assert error_rows(page) == {4: "身份证号", 6: "网格编码", 9: "身份证号"}
    assert "check digit" in page and "No grid has this code" in page and "same ID number is on row 2" in page
    report = base64.b64decode(re.search(r'href="data:[^;]+;base64,([^"]+)"', page).group(1))
    sheet = load_workbook(io.BytesIO(report)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Row", "Column")
    assert sorted((r[0], r[1]) for r in rows[1:]) == [(4, "身份证号"), (6, "网格编码"), (9, "身份证号")]
    assert not any(
        three_bad_rows()[0]["身份证号"] == r[2] for r in rows[1:]
    )  # ID numbers masked in the report


def test_good_rows_only_imports_the_rest_and_reports_the_three(login_as):
    before = resident_count()
    response = upload(login_as("grid"), as_csv(three_bad_rows()), good_rows_only=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "7 of 10 rows imported" in page
    assert set(error_rows(page)) == {4, 6, 9}
    assert resident_count() == before + 7


def test_a_grid_worker_cannot_import_into_another_grid(login_as):
    before = resident_count()
    rows = [person(0), person(1, grid=GRID_B), person(2)]
    page = upload(login_as("grid"), as_csv(rows)).get_data(as_text=True)
    assert error_rows(page) == {3: "网格编码"} and "outside your area" in page
    assert resident_count() == before
    upload(login_as("grid"), as_csv(rows), good_rows_only=True)
    assert resident_count() == before + 2
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Resident)
            .where(Resident.grid_code == GRID_B, Resident.name == "导入1")
        )
        == 0
    )


def test_a_street_admin_imports_into_any_grid_of_the_street(login_as):
    before = resident_count()
    assert upload(login_as("street"), as_csv([person(0), person(1, grid=GRID_B)])).status_code == 302
    assert resident_count() == before + 2


def test_only_staff_reach_the_import_page(login_as, client):
    assert client.get("/admin/resident_import/").status_code == 302  # to the login page
    assert login_as("member").get("/admin/resident_import/").status_code == 403
    assert login_as("dept").get("/admin/resident_import/").status_code == 403
    page = login_as("grid").get("/admin/resident_import/").get_data(as_text=True)
    assert "Import residents" in page and 'name="good_rows_only"' in page


def test_the_template_has_the_chinese_headers(login_as):
    response = login_as("grid").get("/admin/resident_import/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[:7] == ["姓名", "身份证号", "手机号", "网格编码", "楼栋", "房间号", "户号"]
    assert sheet.cell(row=2, column=2).number_format == "@"  # ID numbers stay text in Excel


def test_the_template_filled_in_imports(login_as):
    client = login_as("grid")
    workbook = load_workbook(io.BytesIO(client.get("/admin/resident_import/template.xlsx").data))
    row = person(0)
    workbook.worksheets[0].append([row.get(h, "") for h in [c.value for c in workbook.worksheets[0][1]]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = resident_count()
    assert upload(client, buffer.getvalue(), "filled.xlsx").status_code == 302
    assert resident_count() == before + 1


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "empty.csv", "The file is empty"),
        (b"\xd0\xcf\x11\xe0old excel", "old.xls", "Old .xls"),
        (b"PK\x03\x04broken", "broken.xlsx", "not a readable XLSX"),
        ("名字,号码\n张三,1\n".encode(), "wrong.csv", "No header row found"),
        ("姓名,身份证号,网格编码\n".encode(), "headers.csv", "no rows to import"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(login_as, data, filename, message):
    response = upload(login_as("grid"), data, filename)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_a_file_over_the_row_limit_is_refused_with_a_clear_message(app, login_as):
    app.config["IMPORT_MAX_ROWS"] = 5
    try:
        page = upload(login_as("grid"), as_csv([person(i) for i in range(6)])).get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_ROWS"] = 50000
    assert "more than 5 rows" in page


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(app, login_as):
    app.config["IMPORT_MAX_BYTES"] = 1024
    try:
        page = upload(login_as("grid"), as_csv([person(i) for i in range(40)])).get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_BYTES"] = 20 * 1024 * 1024
    assert "larger than" in page


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(app, login_as):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 1_000_000)
    app.config["IMPORT_MAX_BYTES"] = 20_000
    try:
        page = upload(login_as("grid"), buffer.getvalue(), "bomb.xlsx").get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_BYTES"] = 20 * 1024 * 1024
    assert "too much data" in page


def test_english_headers_padded_with_spaces_are_understood(login_as):
    row = person(0)
    data = f" name ,id_number, grid_code\n{row['姓名']},{row['身份证号']},{GRID_A}\n".encode()
    before = resident_count()
    assert upload(login_as("grid"), data, "english.csv").status_code == 302
    assert resident_count() == before + 1


def test_an_id_number_excel_stored_as_a_number_is_explained(login_as):
    rows = [person(0)]
    data = as_xlsx(rows)
    workbook = load_workbook(io.BytesIO(data))
    workbook.active.cell(row=2, column=2).value = float(rows[0]["身份证号"][:17] + "1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = upload(login_as("grid"), buffer.getvalue(), "numbers.xlsx").get_data(as_text=True)
    assert "stored this ID number as a number" in page


def test_other_checks_name_their_column(login_as):
    rows = [
        person(0, 手机号="12345"),
        person(1, 楼栋="99号楼"),
        person(2, 楼栋="1号楼", 房间号="0-0-000"),
        person(3, 标签="unknown-tag"),
        person(4, 姓名=""),
    ]
    page = upload(login_as("grid"), as_csv(rows)).get_data(as_text=True)
    assert error_rows(page) == {2: "手机号", 3: "楼栋", 4: "房间号", 5: "标签", 6: "姓名"}


def test_the_command_line_imports_a_good_file(runner, demo, tmp_path):
    path = tmp_path / "residents.csv"
    path.write_bytes(as_csv([person(i) for i in range(12)], "gbk"))
    before = resident_count()
    result = runner.invoke(args=["import", "residents", str(path), "--as", "grid"])
    assert result.exit_code == 0, result.output
    assert "12 residents imported" in result.output
    assert resident_count() == before + 12


def test_the_command_line_reports_bad_rows_and_writes_the_report(runner, demo, tmp_path):
    path, report = tmp_path / "bad.csv", tmp_path / "report.xlsx"
    path.write_bytes(as_csv(three_bad_rows()))
    before = resident_count()
    result = runner.invoke(args=["import", "residents", str(path), "--report", str(report)])
    assert result.exit_code == 1
    assert (
        "row 4\t身份证号" in result.output
        and "row 6\t网格编码" in result.output
        and "row 9\t身份证号" in result.output
    )
    assert "Nothing was imported" in result.output and resident_count() == before
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == [4, 6, 9]
    result = runner.invoke(args=["import", "residents", str(path), "--good-rows-only"])
    assert result.exit_code == 0 and "7 residents imported" in result.output
    assert resident_count() == before + 7


def test_the_command_line_refuses_out_of_scope_rows_and_big_files(app, runner, demo, tmp_path):
    path = tmp_path / "other.csv"
    path.write_bytes(as_csv([person(0, grid=GRID_B)]))
    result = runner.invoke(args=["import", "residents", str(path), "--as", "grid"])
    assert result.exit_code == 1 and "outside your area" in result.output
    app.config["IMPORT_MAX_ROWS"] = 0
    try:
        result = runner.invoke(args=["import", "residents", str(path)])
    finally:
        app.config["IMPORT_MAX_ROWS"] = 50000
    assert result.exit_code == 1 and "more than 0 rows" in result.output
    assert runner.invoke(args=["import", "residents", str(path), "--as", "nobody"]).exit_code == 1


def test_the_command_line_writes_the_template(runner, tmp_path):
    path = tmp_path / "template.xlsx"
    assert runner.invoke(args=["import", "template", str(path)]).exit_code == 0
    assert load_workbook(path).worksheets[0]["A1"].value == "姓名"


@pytest.mark.chinese
def test_the_report_renders_in_the_default_chinese_interface(login_as):
    page = upload(login_as("grid"), as_csv(three_bad_rows()), good_rows_only=True).get_data(as_text=True)
    assert set(error_rows(page)) == {4, 6, 9} and "校验码" in page  # the check-digit message, in Chinese


@pytest.mark.skipif(
    ResidentAdmin.list_template != "admin/resident_list.html",
    reason="ResidentAdmin does not use the list template with the import tab yet",
)
def test_the_residents_list_links_to_the_import_page(login_as):
    page = login_as("grid").get("/admin/resident/").get_data(as_text=True)
    assert 'href="/admin/resident_import/" data-import="link"' in page
