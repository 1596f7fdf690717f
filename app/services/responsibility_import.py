"""责任田 by XLSX/CSV import: one household per row with the member who answers for it, every row checked.

Columns: 户号 (the household's number, required), 党员姓名 (the member's name, required) and 党员手机号 (the
member's phone, needed only when two active members of that name live in the household's community). As with
residents, a file with a bad row imports nothing unless the good rows alone are asked for; the report lists
every refused row. A household assigned to another member moves to the one named (the old assignment ends).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Household, Member
from app.models.choices import STAFF_ROLES
from app.models.visits import HouseholdAssignment
from app.services import audit, visits
from app.services.import_base import CHUNK, ImportRefused, RowError
from app.services.masking import MASKERS
from app.services.scope import row_in_scope
from app.services.tabular import TableError, cell_text, find_header, raw_rows, write_xlsx

COLUMNS = {"household": "户号", "member": "党员姓名", "phone": "党员手机号"}
ALIASES = {
    "household": ("household", "户编号"),
    "member": ("member", "党员", "姓名"),
    "phone": ("phone", "手机号"),
}
BY_HEADER = {name: key for key, header in COLUMNS.items() for name in (header, *ALIASES[key])}
MAX_LENGTH = {"household": 30, "member": 50, "phone": 20}


@dataclass
class AssignmentImport:
    total: int = 0
    imported: int = 0
    moved: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def refused_rows(self) -> int:
        return len({e.row for e in self.errors})


def _rows(filename: str, data: bytes):
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
        rows = iter(raw_rows(filename, data, max_unpacked=10 * max_bytes))
        canonical = (
            [COLUMNS[BY_HEADER[c.strip()]] if isinstance(c, str) and c.strip() in BY_HEADER else c for c in r]
            for r in rows
        )
        header_row, cells = find_header(
            canonical, set(COLUMNS.values()), {COLUMNS["household"], COLUMNS["member"]}
        )
        if header_row is None:
            raise ImportRefused(
                _(
                    "No header row found: the first rows must name the columns %(columns)s "
                    "(download the template).",
                    columns="、".join((COLUMNS["household"], COLUMNS["member"])),
                )
            )
        keys = {v: k for k, v in COLUMNS.items()}
        positions = {i: keys[c] for i, c in enumerate(cells) if c in keys}
        ignored = [c for c in cells if c and c not in keys]
        parsed = []
        for number, row in enumerate(canonical, start=header_row + 1):
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


def _in_chunks(model, column, values):
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield from db.session.scalars(select(model).where(column.in_(values[start : start + CHUNK])))


def import_assignments(
    filename: str, data: bytes, actor, good_rows_only: bool = False, ip: str | None = None
):
    """Check every row, then assign the households (all, or the good ones when asked); flushes, the caller commits."""
    if actor is None or actor.role not in STAFF_ROLES:
        raise ImportRefused(_("Only staff may import 责任田."))
    rows, ignored = _rows(filename, data)
    result = AssignmentImport(total=len(rows), ignored_columns=ignored)
    households = {
        h.number: h
        for h in _in_chunks(Household, Household.number, {v.get("household", "") for _n, v in rows})
    }
    members = defaultdict(list)
    for member in _in_chunks(Member, Member.name, {v.get("member", "") for _n, v in rows}):
        if member.active and row_in_scope(actor, member):
            members[member.name].append(member)
    seen: dict[str, int] = {}
    good: dict[int, tuple[Member, list[Household]]] = {}
    for number, values in rows:
        errors = []

        def fail(key, message, values=values, number=number, errors=errors):
            shown = values.get(key, "")
            errors.append(
                RowError(
                    number,
                    COLUMNS[key],
                    message,
                    MASKERS["phone"](shown) if key == "phone" and shown else shown,
                )
            )

        for key, limit in MAX_LENGTH.items():
            text = values.get(key, "")
            if "\x00" in text:
                fail(key, _("Contains a character that is not allowed."))
            elif key != "phone" and not text:
                fail(key, _("Required."))
            elif len(text) > limit:
                fail(key, _("At most %(n)d characters.", n=limit))
        if errors:
            result.errors.extend(errors)
            continue
        household = households.get(values["household"])
        candidates = members.get(values["member"], [])
        phone = values.get("phone", "").replace(" ", "")
        if phone:
            candidates = [m for m in candidates if (m.phone or "") == phone]
        if household is not None:
            candidates = [m for m in candidates if m.grid_code[:12] == household.grid_code[:12]]
        if values["household"] in seen:
            fail("household", _("The same household is on row %(row)d.", row=seen[values["household"]]))
        elif household is None or not row_in_scope(actor, household):
            fail("household", _("No household of this number in your area."))
        elif not candidates:
            fail("member", _("No active member of this name (and phone) in the household's community."))
        elif len(candidates) > 1:
            fail("phone", _("Several members have this name; give the member's phone."))
        if errors:
            result.errors.extend(errors)
            continue
        seen[values["household"]] = number
        member = candidates[0]
        good.setdefault(member.id, (member, []))[1].append(household)
    if (result.errors and not good_rows_only) or not good:
        return result
    for member, chosen in good.values():
        done = visits.assign_households(actor, member, chosen)
        result.imported += done.assigned + done.moved
        result.moved += done.moved
        result.unchanged += done.unchanged
    audit.record_bulk(
        actor,
        "import",
        HouseholdAssignment,
        actor.scope_prefix or None,
        {"file": filename, "rows": result.total, "imported": result.imported, "refused": result.refused_rows},
        ip=ip,
    )
    db.session.flush()
    return result


def template_xlsx() -> bytes:
    """The import template: the three headers, and what each takes."""
    notes = [
        [COLUMNS["household"], _("Required; the number of a household recorded in your area.")],
        [COLUMNS["member"], _("Required; an active checked-in member of the household's community.")],
        [COLUMNS["phone"], _("Optional; needed when two members share the name.")],
    ]
    headers = list(COLUMNS.values())
    return write_xlsx(
        [("责任田", headers, []), ("说明", [_("Column"), _("What to enter")], notes)],
        {"责任田": {0, 2}},
    )


def report_xlsx(result: AssignmentImport) -> bytes:
    """The per-row error report."""
    headers = [_("Row"), _("Column"), _("Value"), _("Problem")]
    return write_xlsx(
        [(_("Errors"), headers, [[e.row, e.column, e.value, e.message] for e in result.errors])]
    )
