"""Back-office exports: the filtered rows in the user's scope, personal data masked, capped, safe to open, and
plain text (never the list's badges, links or forms)."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from admin.exports import neutralise_formula
from app.extensions import db
from app.models import AuditLog, Department, Enterprise, Member, Resident, TeamPerson, Unit
from app.services.masking import MASKERS

pytestmark = pytest.mark.usefixtures("english")

GRID_A = "610404001001001"  # the demo grid worker "grid"
BOM = "\ufeff"
PUBLIC_PHONES = {Department}  # office numbers the public is meant to call


def export_views(app):
    return [v for v in app.extensions["admin"][0]._views if getattr(v, "can_export", False)]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix(BOM))))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_every_exported_phone_or_id_number_column_is_masked(app):
    for view in export_views(app):
        exported = {name.split(".")[-1] for name, _label in view._export_columns}
        personal = (exported & set(MASKERS)) if view.model not in PUBLIC_PHONES else set()
        assert personal <= set(view.masked_columns), f"{view.endpoint} exports {personal} unmasked"


@pytest.mark.parametrize(
    "model, endpoint, columns",
    [
        (Resident, "resident", ("phone", "id_number")),
        (Enterprise, "enterprise", ("phone",)),
        (TeamPerson, "teamperson", ("phone",)),
        (Unit, "unit", ("contact_phone",)),
        (Member, "member", ("phone",)),
    ],
)
def test_csv_and_xlsx_exports_hold_personal_data_only_masked(login_as, model, endpoint, columns):
    client = login_as("admin")
    text = client.get(f"/admin/{endpoint}/export/csv/").get_data(as_text=True)
    sheet = " ".join(str(c) for row in xlsx_rows(client.get(f"/admin/{endpoint}/export/xlsx/")) for c in row)
    rows = db.session.scalars(select(model)).all()
    assert rows
    for row in rows:
        for column in columns:
            value = getattr(row, column)
            if value:
                assert value not in text and value not in sheet, f"{endpoint}.{column} leaked"
    if model is Resident:  # and the masked form is there
        assert MASKERS["phone"](rows[0].phone) in text and MASKERS["phone"](rows[0].phone) in sheet


def test_a_grid_workers_exports_hold_only_their_grid(app, login_as):
    client = login_as("grid")
    checked = 0
    for view in export_views(app):
        if not any(name == "grid" for name, _label in view._export_columns):
            continue
        response = client.get(f"/admin/{view.endpoint}/export/csv/")
        if response.status_code != 200:
            continue  # the view is not for grid workers at all (covered by the access tests)
        rows = csv_rows(response)
        column = next(i for i, (name, _label) in enumerate(view._export_columns) if name == "grid")
        assert all(row[column].endswith(f"({GRID_A})") for row in rows[1:]), view.endpoint
        checked += 1
    assert checked >= 8


def test_a_grid_workers_resident_export_holds_every_row_of_their_grid_and_no_other(login_as):
    rows = csv_rows(login_as("grid").get("/admin/resident/export/csv/"))
    own = db.session.scalar(select(func.count()).select_from(Resident).where(Resident.grid_code == GRID_A))
    assert len(rows) - 1 == own
    xlsx = xlsx_rows(login_as("grid").get("/admin/resident/export/xlsx/"))
    assert len(xlsx) - 1 == own


def test_every_export_is_audited_with_its_list_filters_and_row_count(login_as):
    rows = csv_rows(login_as("grid").get("/admin/resident/export/csv/", query_string={"search": "陈"}))
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
    assert (entry.username, entry.model, entry.area_code) == ("grid", "Resident", GRID_A)
    assert entry.after["list"] == "resident" and "search=" in entry.after["query"]
    assert entry.after["rows"] == len(rows) - 1


def test_the_export_follows_the_lists_search(login_as):
    resident = db.session.scalars(
        select(Resident).where(Resident.grid_code == GRID_A).order_by(Resident.id)
    ).first()
    rows = csv_rows(
        login_as("grid").get("/admin/resident/export/csv/", query_string={"search": resident.name})
    )
    same_name = db.session.scalar(
        select(func.count())
        .select_from(Resident)
        .where(Resident.grid_code == GRID_A, Resident.name.contains(resident.name))
    )
    assert len(rows) - 1 == same_name and all(resident.name in row[0] for row in rows[1:])


def test_the_export_is_capped_and_says_so(app, login_as):
    client = login_as("admin")
    app.config["ADMIN_EXPORT_MAX_ROWS"] = 5
    try:
        assert len(csv_rows(client.get("/admin/resident/export/csv/"))) - 1 == 5
        assert len(xlsx_rows(client.get("/admin/resident/export/xlsx/"))) - 1 == 5
    finally:
        app.config["ADMIN_EXPORT_MAX_ROWS"] = 10000
    total = db.session.scalar(select(func.count()).select_from(Resident))
    assert f"first 5 of {total} rows" in client.get("/admin/resident/").get_data(as_text=True)


def test_csv_exports_open_in_excel_as_utf8_with_an_ascii_file_name(login_as):
    response = login_as("grid").get("/admin/resident/export/csv/")
    assert response.data.startswith(BOM.encode("utf-8"))
    assert "filename=resident_" in response.headers["Content-Disposition"]
    assert (
        login_as("grid").get("/admin/resident/export/xlsx/").headers["Content-Disposition"].endswith(".xlsx")
    )


@pytest.mark.parametrize("username", ["admin", "street", "community", "grid", "dept"])
def test_every_lists_csv_export_downloads_whole_and_matches_its_xlsx(app, login_as, username):
    client = login_as(username)
    exported = 0
    for view in export_views(app):
        as_csv, as_xlsx = (client.get(f"{view.url}/export/{kind}/") for kind in ("csv", "xlsx"))
        assert as_csv.status_code == as_xlsx.status_code, view.endpoint
        if as_csv.status_code == 403:  # not a list for this role (covered by the access tests)
            continue
        table, sheet = csv_rows(as_csv), xlsx_rows(as_xlsx)
        if view.model is AuditLog:  # newest first: the log has gained the CSV export's own entry since
            sheet = sheet[:1] + sheet[2:]
        assert table[0] == list(sheet[0]), view.endpoint
        assert len(table) == len(sheet), f"{view.endpoint}: {len(table)} CSV rows, {len(sheet)} in the XLSX"
        assert [[cell or "" for cell in row] for row in sheet] == table, view.endpoint
        exported += 1
    assert exported >= (3 if username == "dept" else 10)


def test_a_value_that_looks_like_a_formula_is_exported_as_text(login_as):
    resident = db.session.scalars(select(Resident).where(Resident.grid_code == GRID_A)).first()
    resident.name = '=HYPERLINK("http://evil.example","点我")'
    db.session.commit()
    client = login_as("grid")
    names = [row[0] for row in csv_rows(client.get("/admin/resident/export/csv/"))]
    assert "'" + resident.name in names and resident.name not in names
    assert "'" + resident.name in [row[0] for row in xlsx_rows(client.get("/admin/resident/export/xlsx/"))]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("+86 138", "'+86 138"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "-5"),
        ("-2.5", "-2.5"),
        ("-cmd", "'-cmd"),
        ("张三", "张三"),
        (42, 42),
        (None, None),
        ("", ""),
    ],
)
def test_formula_neutralising(value, expected):
    assert neutralise_formula(value) == expected


MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>|&(amp|lt|gt|quot|#\d+);")


@pytest.mark.parametrize("username", ["admin", "street", "grid"])
def test_no_export_cell_holds_markup(app, login_as, username):
    client = login_as(username)
    checked, found = 0, {}
    for view in export_views(app):
        for kind, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
            response = client.get(f"{view.url}/export/{kind}/")
            if response.status_code == 403:
                continue
            header, *rows = read(response)
            for row in rows:
                for label, cell in zip(header, row):
                    if isinstance(cell, str) and MARKUP.search(cell):
                        found.setdefault(f"{view.endpoint}.{label} ({kind})", cell)
            checked += 1
    assert not found
    assert checked >= 10


def test_the_service_item_export_says_each_status_in_words_and_leaves_the_forms_out(login_as):
    header, *rows = csv_rows(login_as("admin").get("/admin/service_item/export/csv/"))
    assert "Follow up" not in header and rows
    statuses = {row[header.index("Status")] for row in rows}
    assert statuses and statuses <= {"Not yet done", "Not yet done · overdue", "Done", "Dropped"}, statuses
