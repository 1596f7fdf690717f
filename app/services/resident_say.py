"""The resident's say (issue 15 §3): rating a resolved report and contesting it, withdrawing a report not yet
accepted, sending a rejected wish again, and how often members give claims back.

Each step runs on its machine (app.services.event_machine, app.services.wishes) through the engine; the
feedback itself is a row of its own (`EventFeedback`, one per resolution). Functions flush and never
commit: the caller owns the transaction.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Event, EventFeedback, EventStep, Member, User, Wish, WishCategory, WishStep
from app.models.base import utcnow
from app.models.callbacks import CallbackSubject
from app.models.choices import RATING_LABELS, EventAction, EventStatus, Rating, WishAction
from app.models.events import NOTE_MAX
from app.models.wishes import DESCRIPTION_MAX, TITLE_MAX
from app.services import audit, callbacks, events, wishes
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.event_access import is_reporter
from app.services.scope import scope_condition
from app.services.text import check_text

# statuses a resident sees as "resolved": asked for their say while the event is in one of them
RESOLVED_STATUSES = (EventStatus.RESOLVED, EventStatus.VERIFIED)
# the API's and the form's names of the three ratings; "fair" is the API's word for 中 (stored "average")
RATING_NAMES = {"good": Rating.GOOD, "fair": Rating.AVERAGE, "average": Rating.AVERAGE, "poor": Rating.POOR}
RELEASE_WINDOW_DAYS = 30


# --- the reporter's feedback on a resolved report -----------------------------------------------------------
def resolution_round(event: Event) -> int:
    """How many times the event was resolved: the feedback answers the latest resolution."""
    return db.session.scalar(
        select(func.count())
        .select_from(EventStep)
        .where(EventStep.event_id == event.id, EventStep.action == EventAction.RESOLVE)
    )


def feedback_given(event: Event) -> EventFeedback | None:
    """The reporter's feedback on the latest resolution, if given."""
    return db.session.scalar(
        select(EventFeedback).where(
            EventFeedback.event_id == event.id, EventFeedback.round == resolution_round(event)
        )
    )


def feedback_of(event: Event) -> list[EventFeedback]:
    """Every feedback the reporter gave on the event, oldest first (shown to staff)."""
    return list(
        db.session.scalars(
            select(EventFeedback).where(EventFeedback.event_id == event.id).order_by(EventFeedback.id)
        )
    )


def feedback_due(user, event: Event) -> bool:
    """Whether `user` is asked for their say now: the reporter, the event resolved, not yet answered."""
    return is_reporter(user, event) and event.status in RESOLVED_STATUSES and feedback_given(event) is None


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    ):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return None


def give_feedback(actor: User, event: Event, fixed, rating, comment=None) -> EventFeedback:
    """The reporter says whether the resolved report is fixed and rates it 好/中/差, with a comment.

    "Not fixed" (with the comment saying what is still wrong) sends the event back to work at the level that
    resolved it, the comment in its history (like an unsatisfied callback); its callback task, if open, is
    recorded unsatisfied. A second answer to the same resolution is a Conflict.
    """
    if not is_reporter(actor, event):
        raise Forbidden(_("Only the resident who reported this may rate how it was handled."))
    if event.status not in RESOLVED_STATUSES:
        raise Conflict(events.conflict_message(event), code="not_resolved")
    errors: dict[str, str] = {}
    fixed = _flag(fixed)
    if fixed is None:
        errors["fixed"] = _("Say whether the problem is fixed (true or false).")
    rating = RATING_NAMES.get(rating.strip().lower()) if isinstance(rating, str) else None
    if rating is None:
        errors["rating"] = _(
            "Choose a rating: %(choices)s.", choices="、".join(str(v) for v in RATING_LABELS.values())
        )
    comment = check_text(errors, "comment", comment, NOTE_MAX, fixed is False, _("Comment"))
    if errors:
        raise Invalid(errors)
    round_ = resolution_round(event)
    feedback = EventFeedback(
        event_id=event.id, round=round_, reporter_id=actor.id, fixed=fixed, rating=rating, comment=comment
    )
    try:
        with db.session.begin_nested():  # the unique (event, round) refuses a second answer, also in a race
            db.session.add(feedback)
    except IntegrityError:
        raise Conflict(
            _("You have already given your say on this resolution."), code="feedback_given"
        ) from None
    audit.record(actor, "create", feedback, None, audit.snapshot(feedback))
    if not fixed:
        not_fixed(actor, event, comment)
    return feedback


def not_fixed(actor: User, event: Event, comment: str) -> Event:
    """The event back to work at its level, with the reporter's words; its open callback task closes unsatisfied."""
    events.check_action(actor, event, EventAction.NOT_FIXED)
    callbacks.close_unsatisfied(CallbackSubject.EVENT, event.id, actor, comment)
    return events._move(event, actor, EventAction.NOT_FIXED, note=comment, resolved_at=None, verified_at=None)


def withdraw_event(actor: User, event: Event, note=None) -> Event:
    """The reporter takes back a report nobody has accepted yet (a final status)."""
    events.check_action(actor, event, EventAction.WITHDRAW)
    errors: dict[str, str] = {}
    note = check_text(errors, "note", note, NOTE_MAX, False, _("Note"))
    if errors:
        raise Invalid(errors)
    return events._move(event, actor, EventAction.WITHDRAW, note=note)


def satisfaction_figures(user, since=None, until=None) -> dict:
    """The reporters' say on resolved reports in `user`'s area (reported within the period): how many answered,
    how many said fixed, the ratings, and the share rated good or average."""
    conditions = [] if (c := scope_condition(Event, user)) is None else [c]
    if since is not None:
        conditions.append(Event.created_at >= since)
    if until is not None:
        conditions.append(Event.created_at < until)
    rows = db.session.execute(
        select(EventFeedback.rating, EventFeedback.fixed, func.count())
        .join(Event, Event.id == EventFeedback.event_id)
        .where(*conditions)
        .group_by(EventFeedback.rating, EventFeedback.fixed)
    ).all()
    ratings = {r.value: 0 for r in Rating}
    answered = fixed = 0
    for rating, was_fixed, n in rows:
        ratings[rating] = ratings.get(rating, 0) + n
        answered += n
        fixed += n if was_fixed else 0
    satisfied = ratings[Rating.GOOD] + ratings[Rating.AVERAGE]
    return {
        "answered": answered,
        "fixed": fixed,
        "not_fixed": answered - fixed,
        "ratings": ratings,
        "rate": round(100 * satisfied / answered, 1) if answered else None,
    }


# --- a rejected wish edited and sent again ----------------------------------------------------------------
def resubmit_wish(actor: User, wish: Wish, title=None, description=None, category_code=None) -> Wish:
    """The owner edits a rejected wish and sends it back to review (its history kept; the review deadline
    counts again from now). Omitted values stay as they were."""
    wishes.check_action(actor, wish, WishAction.RESUBMIT)
    errors: dict[str, str] = {}
    title = check_text(errors, "title", wish.title if title is None else title, TITLE_MAX, True, _("Title"))
    description = check_text(
        errors,
        "description",
        wish.description if description is None else description,
        DESCRIPTION_MAX,
        False,
        _("Description"),
    )
    category_id = wish.category_id
    if category_code not in (None, ""):
        category_id = db.session.scalar(
            select(WishCategory.id).where(
                WishCategory.code == str(category_code), WishCategory.active.is_(True)
            )
        )
        if category_id is None:
            errors["category"] = _("Choose one of the wish categories.")
    if errors:
        raise Invalid(errors)
    now = utcnow()
    hours = current_app.config
    return wishes._move(
        wish,
        actor,
        WishAction.RESUBMIT,
        title=title,
        description=description,
        category_id=category_id,
        reject_reason=None,
        respond_by=now + timedelta(hours=hours["WISH_REVIEW_HOURS"]),
        reply_by=now + timedelta(hours=hours["WISH_CLAIM_HOURS"]),
        resolve_by=now + timedelta(hours=hours["WISH_RESOLVE_HOURS"]),
    )


# --- claims given back -------------------------------------------------------------------------------------
def recent_releases(member: Member, days: int = RELEASE_WINDOW_DAYS, now=None) -> int:
    """How many claims the member gave back in the last `days` days (shown to staff)."""
    if member is None or member.user_id is None:
        return 0
    since = (now or utcnow()) - timedelta(days=days)
    return db.session.scalar(
        select(func.count())
        .select_from(WishStep)
        .where(
            WishStep.actor_id == member.user_id,
            WishStep.action == WishAction.RELEASE,
            WishStep.at >= since,
        )
    )
