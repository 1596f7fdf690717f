"""Reading uploaded tables (XLSX, or CSV in UTF-8 or GBK) and writing XLSX workbooks."""

import csv
import io
import zipfile
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_SEARCH_ROWS = 5  # a title row or two above the headers is common in hand-made sheets


class TableError(ValueError):
    """The file as a whole cannot be read; the message says why, for the person who uploaded it."""


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 with or without BOM, else GB18030 (a superset of the GBK Excel writes in China)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise TableError(
            _("The CSV file is neither UTF-8 nor GBK text; save it again as CSV (UTF-8).")
        ) from exc


def cell_text(value) -> str:
    """A cell as the text a person typed: integers without '.0', dates as YYYY-MM-DD, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes, max_unpacked: int):
    unreadable = TableError(_("The file is not a readable XLSX workbook."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise unreadable from exc
    if unpacked > max_unpacked:
        raise TableError(_("The workbook holds too much data for one import; split it into smaller files."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # an uploaded file can break openpyxl in many ways; none of them is our fault
        raise unreadable from exc
    try:
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except Exception as exc:
        raise unreadable from exc
    finally:
        workbook.close()


def _csv_rows(data: bytes):
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as exc:  # e.g. a NUL byte or a field beyond the csv module's size limit
        raise TableError(_("The CSV file cannot be read: %(problem)s", problem=str(exc))) from exc


def raw_rows(filename: str, data: bytes, max_unpacked: int = 200 * 1024 * 1024):
    """The rows of the first sheet (or of the CSV file) as lists of raw cell values."""
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(data, max_unpacked)
    if name.endswith((".csv", ".txt")) or not name:
        return _csv_rows(data)
    if name.endswith(".xls"):
        raise TableError(_("Old .xls workbooks are not supported; save the file as .xlsx or CSV."))
    raise TableError(_("Upload an .xlsx or .csv file."))


def find_header(rows, known: set[str], required: set[str]):
    """(row number, header cells) of the first of the top rows naming every required column."""
    for number in range(1, HEADER_SEARCH_ROWS + 1):
        row = next(rows, None)
        if row is None:
            break
        cells = [cell_text(c) for c in row]
        if required <= {c for c in cells if c in known}:
            return number, cells
    return None, None


def write_xlsx(
    sheets: list[tuple[str, list[str], list[list]]], text_columns: dict[str, set[int]] | None = None
) -> bytes:
    """An XLSX workbook: one (title, headers, rows) per sheet, headers bold, chosen columns formatted as text."""
    workbook = Workbook(write_only=False)
    workbook.remove(workbook.active)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for index, header in enumerate(headers, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, min(60, 2 * len(str(header)) + 4))
            if index - 1 in (text_columns or {}).get(title, set()):
                # '@' keeps an 18-digit ID number as typed; Excel would round it to 15 digits as a number
                sheet.column_dimensions[letter].number_format = "@"
                for row_number in range(2, 1002):
                    sheet.cell(row=row_number, column=index).number_format = "@"
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
