"""Coverage (包抓) by XLSX/CSV import: one row per unit and grid it covers, every row checked first.

Columns: 单位名称 (the unit's name, required), 网格编码 (the grid's 15-digit code, required), 开始日期 (the first day,
required), 结束日期 (the last day, empty while it lasts) and 备注. As with residents, a file with a bad row imports
nothing unless the good rows alone are asked for (a dry run lists every problem and writes nothing); the report
lists every refused row with its column and problem. The rules are those of the unit's page
(`coverage.coverage_problems`): grids of the unit's community, no overlapping periods.
"""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Area, Unit
from app.models.base import utcnow
from app.models.coverage import UnitCoverage
from app.services import import_base
from app.services.coverage import coverage_problems
from app.services.import_base import ImportRefused, ImportResult, Layout, RowImport, in_chunks
from app.services.scope import code_in_scope

__all__ = ["CoverageImport", "ImportRefused", "import_coverage", "report_xlsx", "template_xlsx"]

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
LAYOUT = Layout(headers=COLUMNS, aliases=BY_HEADER, required=REQUIRED)


@dataclass
class CoverageImport(ImportResult):
    pass


def parse_day(text: str) -> date | None:
    """2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日 (an Excel date arrives as 2026-03-01); None if not a date."""
    match = DATE_RE.match(text.strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


class UnitCoverageImport(RowImport):
    layout = LAYOUT
    model = UnitCoverage
    result_class = CoverageImport

    staff_only = _l("Only staff may import coverage.")

    def load(self, rows):
        names = {v.get("unit", "") for _n, v in rows}
        self.units = {u.name: u for u in in_chunks(select(Unit), Unit.name, names)}
        codes = {v.get("grid_code", "") for _n, v in rows}
        self.grids = set(in_chunks(select(Area.code), Area.code, codes))
        self.in_file: dict[tuple, list] = {}

    def check(self, row):
        if not row.check_text(MAX_LENGTH, REQUIRED):
            return None
        values, fail, actor = row.values, row.fail, self.actor
        unit, grid_code = self.units.get(values["unit"]), values["grid_code"]
        since, until = (
            parse_day(values["since"]),
            parse_day(values.get("until", "")) if values.get("until") else None,
        )
        if unit is None or not code_in_scope(actor, unit.community_code):
            fail("unit", _("No check-in unit of this name in your area."))
        if grid_code not in self.grids:
            fail("grid_code", _("No grid has this code."))
        elif not code_in_scope(actor, grid_code):
            fail("grid_code", _("This grid is outside your area."))
        if since is None:
            fail("since", _("Write a date such as 2026-03-01."))
        if values.get("until") and until is None:
            fail("until", _("Write a date such as 2026-03-01, or leave it empty."))
        if not row.errors:
            for name, message in coverage_problems(unit, grid_code, since, until).items():
                fail(FIELD_COLUMN[name], message)
        if not row.errors:
            for other_number, other_since, other_until in self.in_file.get((unit.id, grid_code), []):
                if (other_until is None or other_until >= since) and (until is None or other_since <= until):
                    fail("since", _("The same unit and grid overlap row %(row)d.", row=other_number))
                    break
        if row.errors:
            return None
        self.in_file.setdefault((unit.id, grid_code), []).append((row.number, since, until))
        note = values.get("note") or None
        return {"unit_id": unit.id, "grid_code": grid_code, "since": since, "until": until, "note": note}

    def write(self, good):
        now = utcnow()
        db.session.execute(insert(UnitCoverage.__table__), [{**row, "created_at": now} for row in good])
        self.result.imported = len(good)


def import_coverage(
    filename: str,
    data: bytes,
    actor,
    good_rows_only: bool = False,
    dry_run: bool = False,
    ip: str | None = None,
) -> CoverageImport:
    """Check every row; write them all (or the good ones when asked; none on a dry run). Flushes, never commits."""
    return UnitCoverageImport(actor, good_rows_only=good_rows_only, dry_run=dry_run, ip=ip).run(
        filename, data
    )


def template_xlsx() -> bytes:
    """The template: headers on the first sheet, what each column takes on the second."""
    notes = {
        "unit": _("Required; the name of a check-in unit of your area, as recorded."),
        "grid_code": _("Required; the 15-digit code of a grid of the unit's community."),
        "since": _("Required; the first day of the coverage, e.g. 2026-03-01."),
        "until": _("Optional; the last day, empty while the coverage lasts."),
        "note": _("Optional."),
    }
    return import_base.template_xlsx("包抓", LAYOUT, notes, ("grid_code", "since", "until"))


report_xlsx = import_base.report_xlsx
