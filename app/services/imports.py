"""Bulk import of residents from XLSX/CSV: every row checked, all-or-nothing unless asked for the good rows only.

Here: reading the file, writing the rows (and the households they need), the template and the error report.
The rules of a row are in app.services.resident_rows, what every import shares in app.services.import_base.
"""

import types
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Household, Resident
from app.models.base import utcnow
from app.models.choices import RESIDENT_TAG_LABELS, STAFF_ROLES
from app.services import audit
from app.services.import_base import ImportRefused, RowError, in_chunks, rows_in_chunks
from app.services.resident_rows import BY_HEADER, COLUMNS, Checker
from app.services.tabular import TableError, cell_text, find_header, raw_rows, write_xlsx

HEAD = "户主"


@dataclass
class ImportResult:
    total: int = 0  # data rows read (blank rows not counted)
    imported: int = 0
    households_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def refused_rows(self) -> int:
        return len({e.row for e in self.errors})


def read_rows(filename: str, data: bytes):
    """([(row number, {key: text})], ignored headers) of an upload, within the configured limits."""
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
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
        # an XLSX is a zip: bound what it may unpack to, or a small file could fill the memory
        rows = iter(raw_rows(filename, data, max_unpacked=10 * max_bytes))
        required = {c.header for c in COLUMNS if c.required}
        header_row, cells = find_header(_canonical(rows), {c.header for c in COLUMNS}, required)
        if header_row is None:
            raise ImportRefused(
                _(
                    "No header row found: the first rows must name the columns %(columns)s "
                    "(download the template).",
                    columns="、".join(sorted(required, key=_order)),
                )
            )
        positions = {i: BY_HEADER[c].key for i, c in enumerate(cells) if c in BY_HEADER}
        ignored = [c for c in cells if c and c not in BY_HEADER]
        id_column = next(i for i, key in positions.items() if key == "id_number")
        parsed = []
        for number, row in enumerate(rows, start=header_row + 1):
            values = {key: cell_text(row[i]) if i < len(row) else "" for i, key in positions.items()}
            values["_raw_id"] = (
                row[id_column] if id_column < len(row) else None
            )  # Excel may have made it a number
            if not any(v for k, v in values.items() if not k.startswith("_")):
                continue  # blank lines and formatted-but-empty cells are not rows
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


def _canonical(rows):
    """Header aliases mapped to the template's header, so the header search sees one spelling."""
    for row in rows:
        yield [
            BY_HEADER[c.strip()].header if isinstance(c, str) and c.strip() in BY_HEADER else c for c in row
        ]


def _order(header: str) -> int:
    return [c.header for c in COLUMNS].index(header)


def may_import(actor) -> bool:
    """Staff import within their area; the command line without --as (actor None) imports anywhere."""
    return actor is None or actor.role in STAFF_ROLES


def import_residents(
    filename: str, data: bytes, actor=None, good_rows_only: bool = False, ip: str | None = None
) -> ImportResult:
    """Check every row; insert them all (or, when asked, the good ones); flushes, the caller commits."""
    if not may_import(actor):
        raise ImportRefused(_("Only staff may import residents."))
    rows, ignored = read_rows(filename, data)
    result = ImportResult(total=len(rows), ignored_columns=ignored)
    checker = Checker(actor, rows)
    good = []
    for number, values in rows:
        resident, errors = checker.check(number, values)
        if errors:
            result.errors.extend(errors)
        else:
            good.append(resident)
    if (result.errors and not good_rows_only) or not good:
        return result
    result.households_created = _create_households(good)
    now = utcnow()
    for resident in good:
        resident.pop("_room_id")
        resident["created_at"] = now
    db.session.execute(insert(Resident.__table__), good)
    result.imported = len(good)
    audit.record_bulk(
        actor or types.SimpleNamespace(id=None, username="cli"),
        "import",
        Resident,
        getattr(actor, "scope_prefix", None) or None,
        {
            "file": filename,
            "rows": result.total,
            "imported": result.imported,
            "refused": result.refused_rows,
            "households_created": result.households_created,
        },
        ip=ip,
    )
    db.session.flush()
    return result


def _create_households(good: list[dict]) -> int:
    """One new household for each room whose rows name no household and that has none; its head from the rows."""
    by_room: dict[int, list[dict]] = {}
    for resident in good:
        if resident["household_id"] is None and resident["_room_id"] is not None:
            by_room.setdefault(resident["_room_id"], []).append(resident)
    if not by_room:
        return 0
    numbers = {room_id: f"{members[0]['grid_code']}-R{room_id}" for room_id, members in by_room.items()}
    taken = set(in_chunks(select(Household.number), Household.number, numbers.values()))
    for room_id, number in numbers.items():
        suffix = 2
        while number in taken:
            numbers[room_id] = f"{number}-{suffix}"
            suffix += 1
    now = utcnow()
    db.session.execute(
        insert(Household.__table__),
        [
            {
                "grid_code": members[0]["grid_code"],
                "room_id": room_id,
                "number": numbers[room_id],
                "head_name": next(
                    (m["name"] for m in members if m["relation_to_head"] == HEAD), members[0]["name"]
                ),
                "care_tier": "assured",
                "is_member_household": False,
                "created_at": now,
            }
            for room_id, members in by_room.items()
        ],
    )
    ids = dict(rows_in_chunks(select(Household.number, Household.id), Household.number, numbers.values()))
    for room_id, members in by_room.items():
        for member in members:
            member["household_id"] = ids[numbers[room_id]]
    return len(by_room)


def template_xlsx() -> bytes:
    """The import template: the headers on the first sheet, what each column takes on the second."""
    notes = {
        "name": _("Required."),
        "id_number": _("Required; 18 characters, kept as text."),
        "phone": _("Mobile (11 digits) or landline with area code."),
        "grid_code": _("Required; the 15-digit code of a grid in your area."),
        "building": _("Optional; a building already recorded in the grid."),
        "room": _(
            "Optional; a room of that building. Residents of a room without a household get a new one."
        ),
        "household": _("Optional; the number of a household already recorded in the grid."),
        "relation_to_head": _("Optional; 户主 makes the person head of a new household."),
        "gender": _("Optional; 男 or 女, taken from the ID number when empty."),
        "ethnicity": _("Optional."),
        "residence_type": _("Optional; 户籍 (default) or 流动."),
        "tags": _(
            "Optional; separated by 、 : %(tags)s",
            tags="、".join(str(t) for t in RESIDENT_TAG_LABELS.values()),
        ),
        "note": _("Optional."),
    }
    headers = [c.header for c in COLUMNS]
    text_columns = {
        "居民": {
            i
            for i, c in enumerate(COLUMNS)
            if c.key in ("id_number", "phone", "grid_code", "room", "household")
        }
    }
    return write_xlsx(
        [
            ("居民", headers, []),
            ("说明", [_("Column"), _("What to enter")], [[c.header, str(notes[c.key])] for c in COLUMNS]),
        ],
        text_columns,
    )


def report_xlsx(result: ImportResult) -> bytes:
    """The per-row error report as a workbook: row, column, value (personal data masked), message."""
    headers = [_("Row"), _("Column"), _("Value"), _("Problem")]
    return write_xlsx(
        [(_("Errors"), headers, [[e.row, e.column, e.value, e.message] for e in result.errors])]
    )
