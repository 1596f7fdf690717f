"""双签字 on the workflow engine: a grid's vanguard captain and grid leader each sign an entry once.

One machine per kind of entry (work logs, work records), made here from one table:

| action | from | to | who |
|---|---|---|---|
| sign | awaiting | awaiting | the holder of a place whose signature is missing, when the other is missing too |
| countersign | awaiting | signed | the holder of the other place, someone other than the first signer |
| edit | awaiting | awaiting, both signatures cleared | the grid's worker or staff in scope |

A signature is one conditional UPDATE that also requires the signatures as they were seen, so of two
signers at once neither overwrites the other: the later one is taken again on the fresh row (as the
countersignature, or refused). Functions flush and never commit.
"""

from flask_babel import gettext as _
from sqlalchemy import ColumnElement

from app.models.base import utcnow
from app.models.choices import STAFF_ROLES
from app.models.worklogs import SIGN_PLACE_LABELS, SIGN_STATUS_LABELS, SignPlace, SignStatus
from app.services import teams, workflow
from app.services.errors import Conflict, Forbidden
from app.services.scope import code_in_scope

SIGN, COUNTERSIGN, EDIT = "sign", "countersign", "edit"
PREFIX = {SignPlace.CAPTAIN: "captain", SignPlace.LEADER: "leader"}
OTHER = {SignPlace.CAPTAIN: SignPlace.LEADER, SignPlace.LEADER: SignPlace.CAPTAIN}
CLEARED = {f"{prefix}_{column}": None for prefix in PREFIX.values() for column in ("signer_id", "signed_at")}


def places_held(user, grid_code: str) -> list[SignPlace]:
    """The signing places of `grid_code` that `user` holds (a person may hold both)."""
    if user is None or not getattr(user, "is_authenticated", True):
        return []
    return [place for place in SignPlace if teams.holds_place(user, grid_code, place)]


def may_write(user, grid_code: str | None) -> bool:
    """The grid's worker and staff whose scope covers the grid write and edit its entries."""
    return (
        user is not None
        and getattr(user, "is_authenticated", True)
        and user.role in STAFF_ROLES
        and code_in_scope(user, grid_code)
    )


def has_signed(user, entry) -> bool:
    return user is not None and user.id in (entry.captain_signer_id, entry.leader_signer_id)


def signatures(entry) -> list[dict]:
    """Both places, in order: who signed and when (None for a missing signature)."""
    return [
        {
            "place": place.value,
            "label": str(SIGN_PLACE_LABELS[place]),
            "signer": entry.signer_of(place),
            "signed_at": entry.signed_at_of(place),
        }
        for place in SignPlace
    ]


def _conflict(entry, _transition=None) -> str:
    if entry.status == SignStatus.SIGNED:
        return _("This entry carries both signatures and is locked.")
    return _(
        "This entry is now “%(status)s”; that step is not possible from there.",
        status=SIGN_STATUS_LABELS.get(entry.status, entry.status),
    )


def signing_machine(name: str, model: type, signal=None) -> workflow.Machine:
    """The signing machine of `model` (a `Signed` model with a `grid_code`)."""

    def refusal(user, entry, kind: str, _context=None) -> str | None:
        if kind == "signer":
            if places_held(user, entry.grid_code):
                return None
            return _("Only the vanguard captain and the grid leader of this grid may sign.")
        if may_write(user, entry.grid_code):
            return None
        return _("Only the grid's worker and staff responsible for the grid may change this entry.")

    transitions = (
        workflow.Transition(SIGN, (SignStatus.AWAITING,), None, "signer"),
        workflow.Transition(COUNTERSIGN, (SignStatus.AWAITING,), SignStatus.SIGNED, "signer"),
        workflow.Transition(EDIT, (SignStatus.AWAITING,), None, "editor"),
    )
    return workflow.Machine(
        name=name,
        model=model,
        step_model=None,  # the entry's own columns record who signed when; the audit log keeps every step
        subject_key="",
        transitions={t.action: t for t in transitions},
        refusal=refusal,
        conflict_message=_conflict,
        lost_message=_conflict,
        signal=signal,
        states=tuple(SignStatus),
        user_actions=(SIGN, COUNTERSIGN, EDIT),
        verbs={COUNTERSIGN: SIGN},
    )


def _place_to_sign(user, entry, place: str | None) -> SignPlace:
    """The place `user` signs now; Conflict when they signed already or their place is taken."""
    held = places_held(user, entry.grid_code)
    if has_signed(user, entry):
        raise Conflict(
            _("You have signed this entry already; the other signature must come from someone else."),
            code="already_signed",
        )
    if place is not None:
        place = SignPlace(place)
        if place not in held:
            raise Forbidden(_("You do not hold that place in this grid."))
        held = [place]
    free = [p for p in held if entry.signer_id_of(p) is None]
    if not free:
        raise Conflict(_("The signature of your place has been given already."), code="place_signed")
    return free[0]


def sign(machine: workflow.Machine, user, entry, place: str | None = None):
    """Sign `entry` in the place `user` holds (`place` chooses when they hold both); the second signature
    makes it `signed`. 403 for anyone but the two holders; 409 when signed already (by them, or the entry)."""
    model = machine.model
    for attempt in range(2):
        workflow.check(machine, user, entry, SIGN)
        mine = _place_to_sign(user, entry, place)
        other = OTHER[mine]
        other_id, now = entry.signer_id_of(other), utcnow()
        mine_column = getattr(model, f"{PREFIX[mine]}_signer_id")
        other_column: ColumnElement = getattr(model, f"{PREFIX[other]}_signer_id")
        values = {f"{PREFIX[mine]}_signer_id": user.id, f"{PREFIX[mine]}_signed_at": now}
        if other_id is None:
            action, guard = SIGN, (mine_column.is_(None), other_column.is_(None))
        else:
            action, guard = COUNTERSIGN, (mine_column.is_(None), other_column == other_id)
            values["signed_at"] = now
        try:
            return workflow.move(machine, entry, user, action, guard=guard, now=now, **values)
        except Conflict:
            if attempt:  # the move refreshed the entry: take the step again on what is there now
                raise
    raise AssertionError("unreachable")


def edit(machine: workflow.Machine, user, entry, changes, note: str | None = None):
    """Change an entry not yet signed by both; the signatures given so far are cleared (they signed other text).

    A signed entry is locked: Conflict, before the values are looked at. `changes`: the columns to set, or a
    function giving them (called once the step is allowed).
    """
    workflow.check(machine, user, entry, EDIT)
    changes = changes() if callable(changes) else changes
    return workflow.move(machine, entry, user, EDIT, note=note, columns={**changes, **CLEARED})


def actions(machine: workflow.Machine, user, entry) -> list[str]:
    """What `user` may do with `entry` now: `sign` (when they may still give a signature) and `edit`."""
    offered = []
    free = [p for p in places_held(user, entry.grid_code) if entry.signer_id_of(p) is None]
    if free and not has_signed(user, entry) and workflow.can(machine, user, entry, SIGN):
        offered.append(SIGN)
    if workflow.can(machine, user, entry, EDIT):
        offered.append(EDIT)
    return offered
