"""Coverage (包抓) by XLSX/CSV import: one row per unit and grid it covers, every row checked first.

Columns: 单位名称 (the unit's name, required), 网格编码 (the grid's 15-digit code, required), 开始日期 (the first day,
required), 结束日期 (the last day, empty while it lasts) and 备注. As with residents, a file with a bad row imports
nothing unless the good rows alone are asked for (a dry run lists every problem and writes nothing); the report
lists every refused row with its column and problem. The rules are those of the unit's page
(`coverage.coverage_problems`): grids of the unit's community, no overlapping periods.
"""

import re
import types
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Area, Unit
from app.models.base import utcnow
from app.models.choices import STAFF_ROLES
from app.models.coverage import UnitCoverage
from app.services import audit
from app.services.coverage import coverage_problems
from app.services.import_base import ImportRefused, RowError, in_chunks
from app.services.scope import code_in_scope
from app.services.tabular import TableError, cell_text, find_header, raw_rows, write_xlsx

COLUMNS = {
    "unit": "单位名称",
    "grid_code": "网格编码",
    "since": "开始日期",
    "until": "结束日期",
    "note": "备注",
}
ALIASES = {
    "unit": ("unit", "报到单位"),
    "grid_code": ("grid_code", "网格代码"),
    "since": ("since", "起始日期"),
}
BY_HEADER = {name: key for key, header in COLUMNS.items() for name in (header, *ALIASES.get(key, ()))}
REQUIRED = ("unit", "grid_code", "since")
MAX_LENGTH = {"unit": 100, "grid_code": 15, "since": 20, "until": 20, "note": 200}
DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
FIELD_COLUMN = {"unit": "unit", "grid": "grid_code", "since": "since", "until": "until"}


@dataclass
class CoverageImport:
    total: int = 0
    imported: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def refused_rows(self) -> int:
        return len({e.row for e in self.errors})


def read_table(filename: str, data: bytes):
    """([(row number, {key: text})], ignored headers) of an upload, within the configured limits."""
    max_bytes, max_rows = current_app.config["IMPORT_MAX_BYTES"], current_app.config["IMPORT_MAX_ROWS"]
    if not data:
        raise ImportRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImportRefused(
            _(
                "The file is larger than %(mb)s MB; split it into smaller files.",
                mb=f"{max_bytes / 1_048_576:g}",
            )
        )
    try:
        rows = (
            [
                COLUMNS[BY_HEADER[c.strip()]] if isinstance(c, str) and c.strip() in BY_HEADER else c
                for c in row
            ]
            for row in raw_rows(filename, data, max_unpacked=10 * max_bytes)
        )
        required = {COLUMNS[k] for k in REQUIRED}
        header_row, cells = find_header(rows, set(COLUMNS.values()), required)
        if header_row is None:
            raise ImportRefused(
                _(
                    "No header row found: the first rows must name the columns %(columns)s "
                    "(download the template).",
                    columns="、".join(COLUMNS[k] for k in REQUIRED),
                )
            )
        keys = {header: key for key, header in COLUMNS.items()}
        positions = {i: keys[c] for i, c in enumerate(cells) if c in keys}
        ignored = [c for c in cells if c and c not in keys]
        parsed = []
        for number, row in enumerate(rows, start=header_row + 1):
            values = {key: cell_text(row[i]) if i < len(row) else "" for i, key in positions.items()}
            if not any(values.values()):
                continue
            if len(parsed) >= max_rows:
                raise ImportRefused(
                    _(
                        "The file has more than %(n)s rows; split it into files of at most %(n)s rows.",
                        n=f"{max_rows:,}",
                    )
                )
            parsed.append((number, values))
    except TableError as exc:
        raise ImportRefused(str(exc)) from exc
    if not parsed:
        raise ImportRefused(_("The file has headers but no rows to import."))
    return parsed, ignored


def parse_day(text: str) -> date | None:
    """2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日 (an Excel date arrives as 2026-03-01); None if not a date."""
    match = DATE_RE.match(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def import_coverage(
    filename: str,
    data: bytes,
    actor,
    good_rows_only: bool = False,
    dry_run: bool = False,
    ip: str | None = None,
) -> CoverageImport:
    """Check every row; write them all (or the good ones when asked; none on a dry run). Flushes, never commits."""
    if actor is None or actor.role not in STAFF_ROLES:
        raise ImportRefused(_("Only staff may import coverage."))
    rows, ignored = read_table(filename, data)
    result = CoverageImport(total=len(rows), dry_run=dry_run, ignored_columns=ignored)
    units = {u.name: u for u in in_chunks(select(Unit), Unit.name, {v.get("unit", "") for _n, v in rows})}
    grids = set(in_chunks(select(Area.code), Area.code, {v.get("grid_code", "") for _n, v in rows}))
    good, in_file = [], {}
    for number, values in rows:
        errors: list[RowError] = []

        def fail(key, message, values=values, number=number, errors=errors):
            errors.append(RowError(number, COLUMNS[key], message, values.get(key, "")))

        for key, limit in MAX_LENGTH.items():
            text = values.get(key, "")
            if "\x00" in text:
                fail(key, _("Contains a character that is not allowed."))
            elif key in REQUIRED and not text:
                fail(key, _("Required."))
            elif len(text) > limit:
                fail(key, _("At most %(n)d characters.", n=limit))
        if errors:
            result.errors.extend(errors)
            continue
        unit, grid_code = units.get(values["unit"]), values["grid_code"]
        since, until = (
            parse_day(values["since"]),
            parse_day(values.get("until", "")) if values.get("until") else None,
        )
        if unit is None or not code_in_scope(actor, unit.community_code):
            fail("unit", _("No check-in unit of this name in your area."))
        if grid_code not in grids:
            fail("grid_code", _("No grid has this code."))
        elif not code_in_scope(actor, grid_code):
            fail("grid_code", _("This grid is outside your area."))
        if since is None:
            fail("since", _("Write a date such as 2026-03-01."))
        if values.get("until") and until is None:
            fail("until", _("Write a date such as 2026-03-01, or leave it empty."))
        if not errors:
            for name, message in coverage_problems(unit, grid_code, since, until).items():
                fail(FIELD_COLUMN[name], message)
        if not errors:
            key = (unit.id, grid_code)
            for other_number, other_since, other_until in in_file.get(key, []):
                if (other_until is None or other_until >= since) and (until is None or other_since <= until):
                    fail("since", _("The same unit and grid overlap row %(row)d.", row=other_number))
                    break
        if errors:
            result.errors.extend(errors)
            continue
        in_file.setdefault((unit.id, grid_code), []).append((number, since, until))
        good.append(
            {
                "unit_id": unit.id,
                "grid_code": grid_code,
                "since": since,
                "until": until,
                "note": values.get("note") or None,
            }
        )
    if dry_run or (result.errors and not good_rows_only) or not good:
        return result
    now = utcnow()
    db.session.execute(insert(UnitCoverage.__table__), [{**row, "created_at": now} for row in good])
    result.imported = len(good)
    audit.record_bulk(
        actor or types.SimpleNamespace(id=None, username="cli"),
        "import",
        UnitCoverage,
        getattr(actor, "scope_prefix", None) or None,
        {"file": filename, "rows": result.total, "imported": result.imported, "refused": result.refused_rows},
        ip=ip,
    )
    db.session.flush()
    return result


def template_xlsx() -> bytes:
    """The template: headers on the first sheet, what each column takes on the second."""
    notes = {
        "unit": _("Required; the name of a check-in unit of your area, as recorded."),
        "grid_code": _("Required; the 15-digit code of a grid of the unit's community."),
        "since": _("Required; the first day of the coverage, e.g. 2026-03-01."),
        "until": _("Optional; the last day, empty while the coverage lasts."),
        "note": _("Optional."),
    }
    headers = list(COLUMNS.values())
    return write_xlsx(
        [
            ("包抓", headers, []),
            ("说明", [_("Column"), _("What to enter")], [[COLUMNS[k], str(notes[k])] for k in COLUMNS]),
        ],
        {"包抓": {1, 2, 3}},
    )


def report_xlsx(result: CoverageImport) -> bytes:
    headers = [_("Row"), _("Column"), _("Value"), _("Problem")]
    return write_xlsx(
        [(_("Errors"), headers, [[e.row, e.column, e.value, e.message] for e in result.errors])]
    )
