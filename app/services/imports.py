"""Bulk import of residents from XLSX/CSV: every row checked, all-or-nothing unless asked for the good rows only."""

import re
import types
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Area, Building, Household, Resident, Room
from app.models.base import utcnow
from app.models.choices import RESIDENT_TAG_LABELS, STAFF_ROLES, AreaLevel, Gender, ResidenceType
from app.services import audit
from app.services.idcard import id_number_error
from app.services.masking import MASKERS
from app.services.scope import code_in_scope
from app.services.tabular import TableError, cell_text, find_header, raw_rows, write_xlsx
from app.services.text import PHONE_RE

TAG_SPLIT_RE = re.compile(r"\s*[,，、;；]\s*")
CHUNK = 500  # values per IN (…) list: well under SQLite's and PostgreSQL's parameter limits
HEAD = "户主"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the template; the file format, so never translated
    required: bool = False
    max_length: int = 50
    aliases: tuple = ()


COLUMNS = (
    Column("name", "姓名", True, 50, ("name",)),
    Column("id_number", "身份证号", True, 18, ("id_number", "身份证号码", "公民身份号码")),
    Column("phone", "手机号", False, 20, ("phone", "联系电话", "电话")),
    Column("grid_code", "网格编码", True, 15, ("grid_code", "网格代码")),
    Column("building", "楼栋", False, 50, ("building", "楼号")),
    Column("room", "房间号", False, 20, ("room", "房号", "房间")),
    Column("household", "户号", False, 30, ("household",)),
    Column("relation_to_head", "与户主关系", False, 20, ("relation_to_head",)),
    Column("gender", "性别", False, 10, ("gender",)),
    Column("ethnicity", "民族", False, 20, ("ethnicity",)),
    Column("residence_type", "户籍类型", False, 12, ("residence_type", "人口类型")),
    Column("tags", "标签", False, 200, ("tags",)),
    Column("note", "备注", False, 1000, ("note",)),
)
BY_HEADER = {name: c for c in COLUMNS for name in (c.header, *c.aliases)}
HEADER = {c.key: c.header for c in COLUMNS}
GENDERS = {
    "男": Gender.MALE,
    "女": Gender.FEMALE,
    "male": Gender.MALE,
    "female": Gender.FEMALE,
    "m": Gender.MALE,
    "f": Gender.FEMALE,
}
RESIDENCE = {
    "户籍": ResidenceType.REGISTERED,
    "户籍人口": ResidenceType.REGISTERED,
    "常住": ResidenceType.REGISTERED,
    "registered": ResidenceType.REGISTERED,
    "流动": ResidenceType.FLOATING,
    "流动人口": ResidenceType.FLOATING,
    "floating": ResidenceType.FLOATING,
}


class ImportRefused(ValueError):
    """The file as a whole is refused (unreadable, too big, no headers, not allowed); nothing was imported."""


@dataclass
class RowError:
    row: int  # the spreadsheet's row number, as the person sees it in Excel
    column: str
    message: str
    value: str = ""


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


def tag_lookup() -> dict[str, str]:
    """Tag keys by every accepted spelling: the key, and the label in Chinese and in English."""
    lookup = {key: key for key in RESIDENT_TAG_LABELS}
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            lookup.update({str(label).lower(): key for key, label in RESIDENT_TAG_LABELS.items()})
    return lookup


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


class Checker:
    """Validates rows against the database and the actor's scope, loading what it needs once per file."""

    def __init__(self, actor, rows):
        self.actor = actor
        self.tags = tag_lookup()
        codes = {v["grid_code"] for _, v in rows if v.get("grid_code")}
        self.grids = set(_in_chunks(select(Area.code).where(Area.level == AreaLevel.GRID), Area.code, codes))
        scoped = [c for c in self.grids if actor is None or code_in_scope(actor, c)]
        self.buildings = {
            (g, n): i
            for i, g, n in _rows_in_chunks(
                select(Building.id, Building.grid_code, Building.name), Building.grid_code, scoped
            )
        }
        self.rooms = {
            (b, n): (i, b)
            for i, b, n in _rows_in_chunks(
                select(Room.id, Room.building_id, Room.number), Room.building_id, set(self.buildings.values())
            )
        }
        numbers = {v["household"] for _, v in rows if v.get("household")}
        self.households = {
            n: (i, g, r)
            for i, n, g, r in _rows_in_chunks(
                select(Household.id, Household.number, Household.grid_code, Household.room_id),
                Household.number,
                numbers,
            )
        }
        room_ids = {i for i, _b in self.rooms.values()}
        self.room_household: dict[int, int] = {}
        for i, r in _rows_in_chunks(
            select(Household.id, Household.room_id).order_by(Household.id.desc()), Household.room_id, room_ids
        ):
            self.room_household[r] = i  # descending ids: the oldest household of a room wins
        ids = {v["id_number"].upper() for _, v in rows if v.get("id_number")}
        self.existing_ids = set(_in_chunks(select(Resident.id_number), Resident.id_number, ids))
        self.seen: dict[str, int] = {}

    def check(self, number: int, values: dict) -> tuple[dict | None, list[RowError]]:
        """(the resident's column values, errors) for one row; values are None when the row has errors."""
        errors: list[RowError] = []

        def fail(key, message):
            shown = values.get(key, "")
            masker = MASKERS.get(key)
            errors.append(
                RowError(number, HEADER[key], message, masker(shown) if masker and shown else shown)
            )

        for column in COLUMNS:
            value = values.get(column.key, "")
            if "\x00" in value:
                fail(column.key, _("Contains a character that is not allowed."))
            elif column.required and not value:
                fail(column.key, _("Required."))
            elif len(value) > column.max_length:
                fail(column.key, _("At most %(n)d characters.", n=column.max_length))
        if errors:
            return None, errors
        id_number = values["id_number"].upper()
        if isinstance(values.get("_raw_id"), (int, float)):  # Excel keeps 15 significant digits of a number
            fail(
                "id_number",
                _(
                    "Excel stored this ID number as a number and dropped digits; "
                    "format the column as text and type it again."
                ),
            )
        elif (problem := id_number_error(id_number)) is not None:
            fail(
                "id_number",
                {
                    "format": _("An ID number has 17 digits followed by a digit or X."),
                    "birth_date": _("The birth date inside the ID number is not a real date."),
                    "checksum": _("The ID number's check digit is wrong; please check it."),
                }[problem],
            )
        elif id_number in self.seen:
            fail("id_number", _("The same ID number is on row %(row)d.", row=self.seen[id_number]))
        elif id_number in self.existing_ids:
            fail("id_number", _("A resident with this ID number is already recorded."))
        else:
            self.seen[id_number] = number
        phone = values.get("phone", "").replace(" ", "")
        if phone and not PHONE_RE.match(phone):
            fail("phone", _("Enter an 11-digit mobile number or a landline such as 029-33211234."))
        grid = values["grid_code"]
        household_id = room_id = None
        if grid not in self.grids:
            fail("grid_code", _("No grid has this code."))
        elif self.actor is not None and not code_in_scope(self.actor, grid):
            fail("grid_code", _("This grid is outside your area."))
        else:
            household_id, room_id = self._place(values, grid, fail)
        gender = self._gender(values, id_number, fail)
        residence = RESIDENCE.get(values.get("residence_type", "").lower() or "户籍")
        if residence is None:
            fail("residence_type", _("Write 户籍 (registered) or 流动 (floating)."))
        tags = self._tags(values.get("tags", ""), fail)
        if errors:
            return None, errors
        return {
            "grid_code": grid,
            "household_id": household_id,
            "name": values["name"],
            "gender": gender,
            "id_number": id_number,
            "phone": phone or None,
            "birth_date": _birth_date(id_number),
            "ethnicity": values.get("ethnicity") or None,
            "residence_type": residence,
            "relation_to_head": values.get("relation_to_head") or None,
            "tags": tags,
            "note": values.get("note") or None,
            "_room_id": room_id,
        }, []

    def _place(self, values, grid, fail) -> tuple[int | None, int | None]:
        """(household id, room id without a household yet) of a row, from its building/room/household columns."""
        building, room, number = values.get("building"), values.get("room"), values.get("household")
        room_id = None
        if room and not building:
            fail("building", _("Give the building of the room."))
            return None, None
        if building:
            building_id = self.buildings.get((grid, building))
            if building_id is None:
                fail("building", _("No building of this name in the grid."))
                return None, None
            if room:
                found = self.rooms.get((building_id, room))
                if found is None:
                    fail("room", _("No room of this number in the building."))
                    return None, None
                room_id = found[0]
        if number:
            found = self.households.get(number)
            if found is None or found[1] != grid:
                fail("household", _("No household of this number in the grid."))
                return None, None
            if room_id is not None and found[2] not in (None, room_id):
                fail("household", _("This household lives in another room."))
                return None, None
            return found[0], None
        if room_id is not None and room_id in self.room_household:
            return self.room_household[room_id], None
        return None, room_id

    def _gender(self, values, id_number, fail) -> str | None:
        from_id = (
            (Gender.MALE if int(id_number[16]) % 2 else Gender.FEMALE) if id_number[16:17].isdigit() else None
        )
        given = values.get("gender", "").lower()
        if not given:
            return from_id
        if given not in GENDERS:
            fail("gender", _("Write 男 or 女."))
        elif from_id is not None and GENDERS[given] != from_id:
            fail("gender", _("Does not match the ID number."))
        return GENDERS.get(given)

    def _tags(self, text: str, fail) -> str | None:
        keys = []
        for word in (w.strip() for w in TAG_SPLIT_RE.split(text) if w.strip()):
            key = self.tags.get(word.lower())
            if key is None:
                fail("tags", _("Unknown tag: %(tag)s.", tag=word))
            elif key not in keys:
                keys.append(key)
        return ",".join(keys) or None


def _birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _in_chunks(query, column, values):
    for chunk in _chunks(values):
        yield from db.session.scalars(query.where(column.in_(chunk)))


def _rows_in_chunks(query, column, values):
    for chunk in _chunks(values):
        yield from db.session.execute(query.where(column.in_(chunk)))


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
    taken = set(_in_chunks(select(Household.number), Household.number, numbers.values()))
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
    ids = dict(_rows_in_chunks(select(Household.number, Household.id), Household.number, numbers.values()))
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
