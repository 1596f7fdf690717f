"""A member's 责任田 on the phone: their households with the last visit and next due day, and a visit form."""

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import DateTimeLocalField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.extensions import db
from app.models.base import utcnow
from app.models.visits import NOTE_MAX
from app.services import compliance, visits
from app.services.clock import local_time
from app.services.errors import DomainError
from app.services.masking import mask_name
from app.services.wish_access import member_for
from marketplace.blueprint import bp
from marketplace.forms import SiteForm
from marketplace.wishes import refused


class VisitForm(SiteForm):
    """One household visit: which household, when (district time), what was talked about and found."""

    # any household id passes the form: the service answers for one outside the member's 责任田 (403)
    household_id = SelectField(
        _l("Household"), coerce=int, validators=[InputRequired()], validate_choice=False
    )
    visited_at = DateTimeLocalField(
        _l("Visited at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()], render_kw={"step": 60}
    )
    note = TextAreaField(
        _l("What you talked about"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )
    findings = TextAreaField(
        _l("What you found"),
        description=_l("Needs, hazards, wishes to follow up; leave empty when all is well."),
        validators=[Optional(), Length(max=NOTE_MAX)],
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )


def _page(member, form: VisitForm, status: int = 200):
    rows = compliance.member_households(member.id)
    form.household_id.choices = [
        (row.household_id, f"{row.address} · {mask_name(row.head_name) if row.head_name else row.number}")
        for row in rows
    ]
    overdue = sum(1 for row in rows if row.overdue)
    interval = compliance.interval_days()
    return (
        render_template(
            "marketplace/my_visits.html",
            member=member,
            rows=rows,
            form=form,
            overdue=overdue,
            interval=interval,
        ),
        status,
    )


@bp.route("/my/visits", methods=["GET", "POST"])
@login_required
def my_visits():
    """The member's households (overdue first), each with its last visit and due day, and the visit form."""
    user = current_user._get_current_object()
    member = member_for(user)
    if member is None:
        return refused(_("This page is for checked-in members: it lists the households they answer for."))
    form = VisitForm()
    if request.method == "GET":
        form.visited_at.data = local_time(utcnow()).replace(second=0, microsecond=0, tzinfo=None)
        chosen = request.args.get("household", type=int)
        if chosen is not None:
            form.household_id.data = chosen
        return _page(member, form)
    if not form.validate_on_submit():
        return _page(member, form, 422)
    try:
        visits.record_visit(
            user,
            form.household_id.data,
            _naive_local(form.visited_at.data),
            note=form.note.data,
            findings=form.findings.data,
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        for name, message in getattr(error, "errors", {"": error.message}).items():
            target = form._fields.get(name)
            (target.errors if target is not None else form.form_errors).append(message)
        return _page(member, form, error.status)
    flash(_("Visit recorded."), "success")
    return redirect(url_for("marketplace.my_visits"), 303)


def _naive_local(value: datetime | None) -> datetime | None:
    """The form's wall-clock time: naive, read by the service as the district's time."""
    return value.replace(tzinfo=None) if value is not None else None
