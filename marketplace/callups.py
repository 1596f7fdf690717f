"""Emergency call-up pages of the site (社区吹哨、党员报到): a member answers and checks in; staff who manage the
call-up (and the grid's captain and leader) follow the live roll, mark arrivals, assign tasks, print and close.

Every action goes through app/services/callups.py; the roll refreshes itself from `roll.json` (callup.js).
"""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import cache, db
from app.ids import parse_id
from app.models import Member
from app.models.callups import CallupResponse
from app.models.choices import ARRIVAL_VIA_LABELS, CALLUP_STATUS_LABELS
from app.security import forbid_storing
from app.services import callup_prints, callups, storage
from app.services.clock import local_time
from marketplace.blueprint import bp
from marketplace.errors import on_refusal

ANSWERS = {"coming": _l("I'm coming"), "cannot": _l("I can't come")}
ANSWER_DONE = {
    "coming": _l("Thank you: you are on the roll as coming. Check in at the muster point."),
    "cannot": _l("Noted: you cannot come this time."),
}
GROUPS = (
    ("arrived", _l("Arrived")),
    ("coming", _l("Coming")),
    ("cannot", _l("Cannot come")),
    ("no_answer", _l("No answer yet")),
)
STATUS_LABELS = CALLUP_STATUS_LABELS
VIA_LABELS = ARRIVAL_VIA_LABELS


def _user():
    return current_user._get_current_object()


def _callup(callup_id: int):
    """The call-up for the logged-in user (the service's scope check: 404 for anyone outside its area)."""
    return callups.get_for(_user(), callup_id)


def _page_url(callup_id: int) -> str:
    return url_for("marketplace.callup_page", callup_id=callup_id)


def _own_response(callup) -> CallupResponse | None:
    """The viewer's line on the roll, when the viewer is a member called up."""
    member_id = db.session.scalar(select(Member.id).where(Member.user_id == current_user.id))
    if member_id is None:
        return None
    return db.session.scalar(
        select(CallupResponse).where(
            CallupResponse.callup_id == callup.id, CallupResponse.member_id == member_id
        )
    )


def clock(moment) -> str:
    """A moment on the district's clock (Beijing time) to the minute, 12:05: hundreds per roll, so plain
    arithmetic rather than Babel's formatter (a third of the roll's time)."""
    return local_time(moment).strftime("%H:%M") if moment is not None else ""


def group_of(person: dict) -> str:
    if person.get("arrived_at") is not None:
        return "arrived"
    return person.get("answer") if person.get("answer") in ("coming", "cannot") else "no_answer"


def shared_roll(callup, fresh: bool = False) -> dict:
    """`roll_view`, shared by everyone who leads the call-up for CALLUP_ROLL_CACHE_SECONDS (per process and
    language): the roll of a street's call-up is hundreds of lines, polled by every lead's phone. A page that
    follows one's own action (it carries a flash message) is always made fresh."""
    seconds = current_app.config.get("CALLUP_ROLL_CACHE_SECONDS", 0)
    if seconds <= 0 or fresh:
        return roll_view(callup)
    key = f"callup-roll:{get_locale()}:{callup.id}"
    view = cache.get(key)
    if view is None:
        view = roll_view(callup)
        cache.set(key, view, timeout=seconds)
    return view


def roll_view(callup) -> dict:
    """The service's roll with what the page and its script show: times as text, each person's group."""
    roll = callups.roll(callup)
    people = []
    for person in roll["people"]:
        people.append(
            {
                **person,
                "answered_at": person["answered_at"].isoformat() if person.get("answered_at") else None,
                "arrived_at": person["arrived_at"].isoformat() if person.get("arrived_at") else None,
                "answered_text": clock(person.get("answered_at")),
                "arrived_text": clock(person.get("arrived_at")),
                "via_text": str(VIA_LABELS.get(person.get("arrived_via"), "")),
                "group": group_of(person),
            }
        )
    return {
        "id": roll["id"],
        "status": roll["status"],
        "status_text": str(STATUS_LABELS.get(roll["status"], roll["status"])),
        "title": roll["title"],
        "needed": roll["needed"],
        "counts": roll["counts"],
        "people": people,
        "figures": callup_prints.figures(callup, roll["figures"]),
    }


def _by_group(roll: dict | None) -> dict[str, list[dict]]:
    """The roll's people under each group's key (arrived, coming, cannot, no_answer), in the roll's order."""
    groups: dict[str, list[dict]] = {key: [] for key, _label in GROUPS}
    for person in (roll or {}).get("people", ()):
        groups[person["group"]].append(person)
    return groups


# --- the call-up's page ------------------------------------------------------------------------------------
@bp.get("/callups/<int:callup_id>")
@login_required
def callup_page(callup_id: int):
    """What, where, when and how many; the member's two buttons (and their task once arrived); for those who
    manage it, the live roll with its actions."""
    user = _user()
    callup = _callup(callup_id)
    leads = callups.may_lead(user, callup)
    if leads:
        forbid_storing()  # names and times of people: no cache keeps them
    roll = shared_roll(callup, fresh=bool(session.get("_flashes"))) if leads else None
    return render_template(
        "marketplace/callup.html",
        callup=callup,
        response=_own_response(callup),
        leads=leads,
        manages=callups.can_manage(user, callup),
        may_close="close" in callups.actions(user, callup),
        roll=roll,
        groups=GROUPS,
        by_group=_by_group(roll),
        answers=ANSWERS,
        status_labels=STATUS_LABELS,
        # a member's page needs the count only: one aggregate, not the roll of hundreds
        coming=roll["counts"]["coming"] if roll else callups.figures(callup)["coming"],
    )


@bp.post("/callups/<int:callup_id>/answer")
@login_required
def callup_answer(callup_id: int):
    """One tap: coming or cannot; answering again replaces the answer."""
    answer = request.form.get("answer")
    if answer not in ANSWERS:
        abort(400)
    _callup(callup_id)  # outside the area: 404, before any other refusal
    on_refusal(back_to=_page_url(callup_id))
    callups.respond(_user(), callup_id, answer)
    db.session.commit()
    flash(str(ANSWER_DONE[answer]), "success")
    return redirect(_page_url(callup_id), 303)


@bp.get("/callups/<int:callup_id>/roll.json")
@login_required
def callup_roll(callup_id: int):
    """The live roll, polled by the page: counts and people, for those who lead the call-up (404 otherwise)."""
    callup = _callup(callup_id)
    if not callups.may_lead(_user(), callup):
        abort(404)
    forbid_storing()
    return jsonify(shared_roll(callup))


def _member_id() -> int:
    member_id = parse_id(request.form.get("member_id"))
    if member_id is None:
        abort(404)
    return member_id


@bp.post("/callups/<int:callup_id>/arrived")
@login_required
def callup_mark_arrived(callup_id: int):
    """Staff (or the grid's leader or captain) mark someone on the roll arrived."""
    _callup(callup_id)
    on_refusal(back_to=_page_url(callup_id))
    response = callups.mark_arrived(_user(), callup_id, _member_id())
    db.session.commit()
    flash(_("%(name)s is marked arrived.", name=response.member.name), "success")
    return redirect(_page_url(callup_id) + "#roll", 303)


@bp.post("/callups/<int:callup_id>/task")
@login_required
def callup_assign_task(callup_id: int):
    """The grid leader (or staff) gives an arrived member a task (free text)."""
    _callup(callup_id)
    on_refusal(back_to=_page_url(callup_id))
    task = (request.form.get("task") or "").strip()
    response = callups.assign_task(_user(), callup_id, _member_id(), task)
    db.session.commit()
    flash(_("Task given to %(name)s.", name=response.member.name), "success")
    return redirect(_page_url(callup_id) + "#roll", 303)


@bp.post("/callups/<int:callup_id>/close")
@login_required
def callup_close(callup_id: int):
    """Close the call-up: arrivals are credited their hours (the service's rule), the figures are kept."""
    _callup(callup_id)
    on_refusal(back_to=_page_url(callup_id))
    callups.close(_user(), callup_id)
    db.session.commit()
    flash(_("The call-up is closed."), "success")
    return redirect(_page_url(callup_id), 303)


# --- the check-in QR code and where it leads ---------------------------------------------------------------------
@bp.get("/callups/<int:callup_id>/qr")
@login_required
def callup_qr(callup_id: int):
    """The check-in QR code, big on a phone held up at the muster point; a printable A4 sheet of it."""
    callup = _callup(callup_id)
    if not callups.can_manage(_user(), callup):
        abort(404)
    forbid_storing()  # the token is in it
    url = callup_prints.checkin_url(callup)
    return render_template(
        "marketplace/callup_qr.html",
        callup=callup,
        url=url,
        qr=callup_prints.qr_data_uri(url),
        status_labels=STATUS_LABELS,
    )


@bp.route("/callups/<int:callup_id>/checkin", methods=["GET", "POST"])
@login_required
def callup_checkin(callup_id: int):
    """Where the QR code leads: one tap checks the member in; a wrong code is refused on the page."""
    callup = _callup(callup_id)
    token = request.values.get("token", "")
    forbid_storing()
    if request.method == "POST":
        on_refusal(form=lambda error: _checkin_page(callup, token, error.message))
        callups.check_in(_user(), callup_id, token)
        db.session.commit()
        flash(_("You are checked in. Thank you for coming!"), "success")
        return redirect(_page_url(callup_id), 303)
    return _checkin_page(callup, token)


def _checkin_page(callup, token: str, error: str | None = None):
    return render_template(
        "marketplace/callup_checkin.html",
        callup=callup,
        token=token[:200],
        error=error,
        response=_own_response(callup),
    )


# --- printouts: the QR sheet and the report ---------------------------------------------------------------------
@bp.post("/callups/<int:callup_id>/print/<kind>")
@login_required
def callup_print(callup_id: int, kind: str):
    """Ask for the A4 QR sheet or the report as it stands now; the jobs queue renders it."""
    _callup(callup_id)
    on_refusal(back_to=_page_url(callup_id))
    name = callup_prints.request_print(_user(), callup_id, kind)
    db.session.commit()
    return redirect(url_for("marketplace.callup_printout", callup_id=callup_id, name=name), 303)


@bp.get("/callups/<int:callup_id>/prints/<name>")
@login_required
def callup_printout(callup_id: int, name: str):
    """The PDF once stored; until then a page that refreshes itself."""
    state, key = callup_prints.print_state(_user(), callup_id, name)
    if state == "ready":
        return storage.response(key, download_name=callup_prints.download_name(name))
    callup = _callup(callup_id)
    return render_template("marketplace/callup_print.html", callup=callup, state=state), 202
