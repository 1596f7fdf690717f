"""The resident import's rules for one row: the template's columns, the accepted spellings, the checks.

`Checker` validates each row against the database and the actor's scope, loading what it needs once per
file; app.services.imports reads the file and writes the rows that pass.
"""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.models import Area, Building, Household, Resident, Room
from app.models.choices import RESIDENT_TAG_LABELS, AreaLevel, Gender, ResidenceType
from app.services.idcard import id_number_error
from app.services.import_base import Row, RowError, in_chunks, rows_in_chunks
from app.services.scope import code_in_scope
from app.services.text import PHONE_RE

TAG_SPLIT_RE = re.compile(r"\s*[,，、;；]\s*")


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
LIMITS = {c.key: c.max_length for c in COLUMNS}
REQUIRED = {c.key for c in COLUMNS if c.required}
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


def tag_lookup() -> dict[str, str]:
    """Tag keys by every accepted spelling: the key, and the label in Chinese and in English."""
    lookup = {key: key for key in RESIDENT_TAG_LABELS}
    for locale in ("zh_Hans_CN", "en"):
        with force_locale(locale):
            lookup.update({str(label).lower(): key for key, label in RESIDENT_TAG_LABELS.items()})
    return lookup


class Checker:
    """Validates rows against the database and the actor's scope, loading what it needs once per file."""

    def __init__(self, actor, rows):
        self.actor = actor
        self.tags = tag_lookup()
        codes = {v["grid_code"] for _, v in rows if v.get("grid_code")}
        self.grids = set(in_chunks(select(Area.code).where(Area.level == AreaLevel.GRID), Area.code, codes))
        scoped = [c for c in self.grids if actor is None or code_in_scope(actor, c)]
        self.buildings = {
            (g, n): i
            for i, g, n in rows_in_chunks(
                select(Building.id, Building.grid_code, Building.name), Building.grid_code, scoped
            )
        }
        self.rooms = {
            (b, n): (i, b)
            for i, b, n in rows_in_chunks(
                select(Room.id, Room.building_id, Room.number), Room.building_id, set(self.buildings.values())
            )
        }
        numbers = {v["household"] for _, v in rows if v.get("household")}
        self.households = {
            n: (i, g, r)
            for i, n, g, r in rows_in_chunks(
                select(Household.id, Household.number, Household.grid_code, Household.room_id),
                Household.number,
                numbers,
            )
        }
        room_ids = {i for i, _b in self.rooms.values()}
        self.room_household: dict[int, int] = {}
        for i, r in rows_in_chunks(
            select(Household.id, Household.room_id).order_by(Household.id.desc()), Household.room_id, room_ids
        ):
            self.room_household[r] = i  # descending ids: the oldest household of a room wins
        ids = {v["id_number"].upper() for _, v in rows if v.get("id_number")}
        self.existing_ids = set(in_chunks(select(Resident.id_number), Resident.id_number, ids))
        self.seen: dict[str, int] = {}

    def check(self, number: int, values: dict) -> tuple[dict | None, list[RowError]]:
        """(the resident's column values, errors) for one row; values are None when the row has errors."""
        row = Row(number, values, HEADER)
        errors, fail = row.errors, row.fail
        if not row.check_text(LIMITS, REQUIRED):
            return None, errors
        id_number = values["id_number"].upper()
        if isinstance(
            values.get("_raw_id_number"), (int, float)
        ):  # Excel keeps 15 significant digits of a number
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
