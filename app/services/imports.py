"""Bulk import of residents from XLSX/CSV: every row checked, all-or-nothing unless asked for the good rows only.

Here: reading the file, writing the rows (and the households they need), the template and the error report.
The rules of a row are in app.services.resident_rows, what every import shares in app.services.import_base.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Household, Resident
from app.models.base import utcnow
from app.models.choices import RESIDENT_TAG_LABELS
from app.services import import_base
from app.services.import_base import ImportRefused, Layout, RowImport, in_chunks, read_table, rows_in_chunks
from app.services.resident_rows import BY_HEADER, COLUMNS, HEADER, Checker

__all__ = ["ImportRefused", "ImportResult", "import_residents", "read_rows", "report_xlsx", "template_xlsx"]

HEAD = "户主"
LAYOUT = Layout(
    headers=HEADER,
    aliases={name: c.key for name, c in BY_HEADER.items()},
    required=tuple(c.key for c in COLUMNS if c.required),
    raw=("id_number",),  # Excel may have made it a number
)


@dataclass
class ImportResult(import_base.ImportResult):
    households_created: int = 0


def read_rows(filename: str, data: bytes):
    """([(row number, {key: text})], ignored headers) of an upload, within the configured limits."""
    return read_table(filename, data, LAYOUT)


class ResidentImport(RowImport):
    layout = LAYOUT
    model = Resident
    result_class = ImportResult

    staff_only = _l("Only staff may import residents.")
    command_line_anywhere = True

    def load(self, rows):
        self.checker = Checker(self.actor, rows)

    def check(self, row):
        resident, errors = self.checker.check(row.number, row.values)
        row.errors.extend(errors)
        return resident

    def write(self, good):
        self.result.households_created = _create_households(good)
        now = utcnow()
        for resident in good:
            resident.pop("_room_id")
            resident["created_at"] = now
        db.session.execute(insert(Resident.__table__), good)
        self.result.imported = len(good)

    def details(self, filename):
        return {**super().details(filename), "households_created": self.result.households_created}


def import_residents(
    filename: str, data: bytes, actor=None, good_rows_only: bool = False, ip: str | None = None
) -> ImportResult:
    """Check every row; insert them all (or, when asked, the good ones); flushes, the caller commits."""
    return ResidentImport(actor, good_rows_only=good_rows_only, ip=ip).run(filename, data)


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
    return import_base.template_xlsx(
        "居民", LAYOUT, notes, ("id_number", "phone", "grid_code", "room", "household")
    )


report_xlsx = import_base.report_xlsx
