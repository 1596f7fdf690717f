"""The resident's say on their report (issue 15 §3), on the report page: fixed or not with a rating, and
withdrawing a report nobody has accepted yet. The rules are app.services.resident_say's."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import RadioField, TextAreaField

from app.extensions import db
from app.models.choices import RATING_LABELS, EventAction
from app.models.events import NOTE_MAX
from app.services import events as service
from app.services import resident_say
from marketplace.blueprint import bp
from marketplace.errors import on_refusal
from marketplace.forms import SiteForm, strip

FIXED_CHOICES = [("false", _l("Not fixed")), ("true", _l("Fixed"))]


class FeedbackForm(SiteForm):
    """Fixed or not, 好/中/差 and a comment (needed when it is not fixed)."""

    fixed = RadioField(_l("Is the problem fixed?"), validate_choice=False, choices=FIXED_CHOICES)
    rating = RadioField(
        _l("How was it handled?"),
        validate_choice=False,
        choices=[(rating.value, label) for rating, label in RATING_LABELS.items()],
    )
    comment = TextAreaField(
        _l("Comment"),
        filters=[strip],
        description=_l(
            "If it is not fixed, say what is still wrong: it goes back to the people who handled it."
        ),
        render_kw={"maxlength": NOTE_MAX, "rows": 3},
    )


class WithdrawForm(SiteForm):
    """Take back a report nobody has accepted yet."""


def say_context(viewer, event) -> dict:
    """What the report page shows of the reporter's say: the form when asked, the answers given, withdraw."""
    return {
        "feedback_form": FeedbackForm(prefix="feedback")
        if resident_say.feedback_due(viewer, event)
        else None,
        "feedback": resident_say.feedback_of(event) if resident_say.is_reporter(viewer, event) else [],
        "withdraw_form": WithdrawForm(prefix="withdraw")
        if service.can(viewer, event, EventAction.WITHDRAW)
        else None,
        "rating_labels": RATING_LABELS,
    }


def _event_or_404(event_id: int):
    event = service.get_visible_event(current_user._get_current_object(), event_id)
    if event is None:
        abort(404)
    return event


@bp.post("/events/<int:event_id>/feedback")
@login_required
def event_feedback(event_id: int):
    """The reporter's say on the resolved report; "not fixed" sends it back to work."""
    event = _event_or_404(event_id)
    form = FeedbackForm(prefix="feedback")
    form.validate_on_submit()
    on_refusal(back_to=url_for("marketplace.event_page", event_id=event_id))
    fixed = {"true": True, "false": False}.get(form.fixed.data or "", form.fixed.data)
    feedback = resident_say.give_feedback(
        current_user._get_current_object(), event, fixed, form.rating.data, form.comment.data
    )
    db.session.commit()
    if feedback.fixed:
        flash(_("Thank you for your rating."), "success")
    else:
        flash(_("Sorry it is not fixed: your report has gone back to the people who handled it."), "success")
    return redirect(url_for("marketplace.event_page", event_id=event_id), 303)


@bp.post("/events/<int:event_id>/withdraw")
@login_required
def withdraw_event(event_id: int):
    """The reporter takes back a report nobody has accepted yet."""
    event = _event_or_404(event_id)
    WithdrawForm(prefix="withdraw").validate_on_submit()
    on_refusal(back_to=url_for("marketplace.event_page", event_id=event_id))
    resident_say.withdraw_event(current_user._get_current_object(), event)
    db.session.commit()
    flash(_("Your report has been withdrawn."), "success")
    return redirect(url_for("marketplace.event_page", event_id=event_id), 303)
