"""The notifications of a call-up: urgent (no mute, no quiet hours — the notify core knows them by kind).

On raise, two jobs follow the commit, in this order: "callup_lead" to the vanguard captain and the grid leader
of every grid of the area (they lead: their own words), then "callup" to every other active member of the area
with an account. Both are one INSERT … SELECT each, however large the area; each person is told once.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import GridRole, Member, TeamPerson, User
from app.models.base import under_area
from app.models.callups import Callup
from app.models.choices import CallupStatus
from app.services import notifications
from app.services.callup_access import LEADS, area_members
from app.services.clock import local_time

KIND_MEMBERS, KIND_LEADS = "callup", "callup_lead"


def lead_accounts(area_code: str):
    """SELECT of the active accounts holding the captain's or the leader's place of a grid of the area."""
    return (
        select(User.id)
        .join(TeamPerson, TeamPerson.user_id == User.id)
        .join(GridRole, GridRole.person_id == TeamPerson.id)
        .where(User.active.is_(True), GridRole.role.in_(LEADS), under_area(GridRole.grid_code, area_code))
    )


def member_accounts(area_code: str):
    """SELECT of the active accounts of the area's active members, leads left out (they have their own)."""
    return (
        select(User.id)
        .join(Member, Member.user_id == User.id)
        .where(User.active.is_(True), area_members(area_code), User.id.not_in(lead_accounts(area_code)))
    )


def on_callup_changed(callup: Callup, action=None, **_extra) -> None:
    """A call-up raised: its notices, once the raise is committed (the leads' job first)."""
    if action == "raise":
        notifications.tell(KIND_LEADS, callup_id=callup.id)
        notifications.tell(KIND_MEMBERS, callup_id=callup.id)


def _open(callup_id) -> Callup | None:
    callup = db.session.get(Callup, callup_id)
    return callup if callup is not None and callup.status == CallupStatus.OPEN else None


def _facts(callup: Callup) -> dict:
    return {
        "title": callup.title,
        "point": callup.muster_point,
        "needed": callup.needed,
        "at": local_time(callup.starts_at).strftime("%m-%d %H:%M"),
        "area": callup.area.name if callup.area is not None else callup.area_code,
    }


@notifications.builder(KIND_LEADS)
def notify_leads(callup_id: int) -> int:
    """The captains and leaders of the area's grids: lead your members to the muster point."""
    return _tell(
        callup_id,
        KIND_LEADS,
        lead_accounts,
        lambda facts: (
            _("Call-up — lead your members: %(title)s", **facts),
            _(
                "%(area)s has blown the whistle. Muster at %(point)s from %(at)s, %(needed)d people needed. "
                "As your grid's captain or leader, lead its members there and assign their tasks.",
                **facts,
            ),
        ),
    )


@notifications.builder(KIND_MEMBERS)
def notify_members(callup_id: int) -> int:
    """Every other active member of the area with an account: answer coming or cannot, check in on arrival."""
    return _tell(
        callup_id,
        KIND_MEMBERS,
        member_accounts,
        lambda facts: (
            _("Call-up: %(title)s", **facts),
            _(
                "%(area)s calls its checked-in members. Muster at %(point)s from %(at)s, %(needed)d people "
                "needed. Answer whether you are coming; on arrival, scan the QR code to check in.",
                **facts,
            ),
        ),
    )


def _tell(callup_id: int, kind: str, accounts, words) -> int:
    """Tell `accounts(area)` of the open call-up, each in their language: `words(facts)` gives title and body."""
    callup = _open(callup_id)
    if callup is None:
        return 0
    facts = _facts(callup)
    return notifications.send_words(
        kind,
        accounts(callup.area_code),
        lambda: words(facts),
        link=f"/callups/{callup.id}",
        subject=f"callup:{callup.id}",
    )
