"""责任田 by XLSX/CSV import: one household per row with the member who answers for it, every row checked.

Columns: 户号 (the household's number, required), 党员姓名 (the member's name, required) and 党员手机号 (the
member's phone, needed only when two active members of that name live in the household's community). As with
residents, a file with a bad row imports nothing unless the good rows alone are asked for; the report lists
every refused row. A household assigned to another member moves to the one named (the old assignment ends).
"""

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.models import Household, Member
from app.models.visits import HouseholdAssignment
from app.services import import_base, visits
from app.services.import_base import ImportResult, Layout, RowImport, in_chunks
from app.services.scope import row_in_scope

COLUMNS = {"household": "户号", "member": "党员姓名", "phone": "党员手机号"}
ALIASES = {
    "household": ("household", "户编号"),
    "member": ("member", "党员", "姓名"),
    "phone": ("phone", "手机号"),
}
BY_HEADER = {name: key for key, header in COLUMNS.items() for name in (header, *ALIASES[key])}
MAX_LENGTH = {"household": 30, "member": 50, "phone": 20}
LAYOUT = Layout(headers=COLUMNS, aliases=BY_HEADER, required=("household", "member"))


@dataclass
class AssignmentImport(ImportResult):
    moved: int = 0
    unchanged: int = 0


class ResponsibilityImport(RowImport):
    layout = LAYOUT
    model = HouseholdAssignment
    result_class = AssignmentImport

    staff_only = _l("Only staff may import 责任田.")

    def load(self, rows):
        households = {v.get("household", "") for _n, v in rows}
        self.households = {h.number: h for h in in_chunks(select(Household), Household.number, households)}
        self.members = defaultdict(list)
        names = {v.get("member", "") for _n, v in rows}
        for member in in_chunks(select(Member), Member.name, names):
            if member.active and row_in_scope(self.actor, member):
                self.members[member.name].append(member)
        self.seen: dict[str, int] = {}

    def check(self, row):
        if not row.check_text(MAX_LENGTH, ("household", "member")):
            return None
        values, fail = row.values, row.fail
        household = self.households.get(values["household"])
        candidates = self.members.get(values["member"], [])
        phone = row.get("phone").replace(" ", "")
        if phone:
            candidates = [m for m in candidates if (m.phone or "") == phone]
        if household is not None:
            candidates = [m for m in candidates if m.grid_code[:12] == household.grid_code[:12]]
        if values["household"] in self.seen:
            fail("household", _("The same household is on row %(row)d.", row=self.seen[values["household"]]))
        elif household is None or not row_in_scope(self.actor, household):
            fail("household", _("No household of this number in your area."))
        elif not candidates:
            fail("member", _("No active member of this name (and phone) in the household's community."))
        elif len(candidates) > 1:
            fail("phone", _("Several members have this name; give the member's phone."))
        if row.errors:
            return None
        self.seen[values["household"]] = row.number
        return candidates[0], household

    def write(self, good):
        chosen: dict[int, tuple[Member, list[Household]]] = {}
        for member, household in good:
            chosen.setdefault(member.id, (member, []))[1].append(household)
        for member, households in chosen.values():
            done = visits.assign_households(self.actor, member, households)
            self.result.imported += done.assigned + done.moved
            self.result.moved += done.moved
            self.result.unchanged += done.unchanged


def import_assignments(
    filename: str, data: bytes, actor, good_rows_only: bool = False, ip: str | None = None
) -> AssignmentImport:
    """Check every row, then assign the households (all, or the good ones when asked); flushes, the caller commits."""
    return ResponsibilityImport(actor, good_rows_only=good_rows_only, ip=ip).run(filename, data)


def template_xlsx() -> bytes:
    """The import template: the three headers, and what each takes."""
    notes = {
        "household": _("Required; the number of a household recorded in your area."),
        "member": _("Required; an active checked-in member of the household's community."),
        "phone": _("Optional; needed when two members share the name."),
    }
    return import_base.template_xlsx("责任田", LAYOUT, notes, ("household", "phone"))


report_xlsx = import_base.report_xlsx
