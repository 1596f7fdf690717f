"""随手拍 on the public site: residents and members report a problem, list their reports and follow each one."""

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, format_time, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.extensions import db
from app.ids import parse_page
from app.models import Area, Event, EventStep, Matter
from app.models.base import aware, utcnow
from app.models.choices import (
    EVENT_ACTION_LABELS,
    EVENT_STATUS_LABELS,
    MATTER_CATEGORY_LABELS,
    OPEN_EVENT_STATUSES,
    ROLE_LABELS,
    AreaLevel,
    EventAction,
    EventLevel,
    EventStatus,
    MatterCategory,
)
from app.models.events import DESCRIPTION_MAX, LOCATION_MAX, TITLE_MAX
from app.services import attachments
from app.services import events as service
from app.services.event_reporting import REPORTER_ROLES
from app.services.event_sla import is_overdue
from marketplace.areas import grid_choices
from marketplace.blueprint import bp
from marketplace.errors import mark_fields, on_refusal
from marketplace.event_say import say_context
from marketplace.forms import SiteForm, strip
from marketplace.navigation import back_office_url
from marketplace.photos import uploaded_photos

MY_EVENTS_PAGE_SIZE = 20
# who is working on it, in a resident's words (while the event is open)
HANDLED_BY = {
    EventLevel.GRID: _l("Your grid worker is handling it."),
    EventLevel.COMMUNITY: _l("It has been passed up to the community, which is handling it."),
    EventLevel.STREET: _l("It has been passed up to the street office, which is handling it."),
    EventLevel.DEPARTMENT: _l("The street office has called in the district's departments."),
    EventLevel.DISTRICT: _l("It has been passed up to the district, which is handling it."),
}
# the same, in a list of reports
WITH_LEVEL = {
    EventLevel.GRID: _l("with your grid worker"),
    EventLevel.COMMUNITY: _l("with the community"),
    EventLevel.STREET: _l("with the street office"),
    EventLevel.DEPARTMENT: _l("with the district's departments"),
    EventLevel.DISTRICT: _l("with the district"),
}
DONE_STATUSES = (EventStatus.CLOSED, EventStatus.ARCHIVED, EventStatus.WITHDRAWN)


class EventReportForm(SiteForm):
    """What is wrong, which kind of problem, where; the event service judges every value."""

    matter = SelectField(_l("What kind of problem"), validate_choice=False)
    description = TextAreaField(
        _l("What is wrong"),
        filters=[strip],
        description=_l("Describe what you see. No ID or phone numbers."),
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 4},
    )
    location_text = StringField(
        _l("Where"),
        filters=[strip],
        description=_l("Building, entrance, street corner… so the grid worker finds it."),
        render_kw={"maxlength": LOCATION_MAX, "autocomplete": "off"},
    )
    title = StringField(
        _l("Short title (optional)"),
        filters=[strip],
        description=_l("Left blank, it is made from the kind of problem and your description."),
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    grid_code = SelectField(
        _l("Grid"),
        validate_choice=False,
        description=_l("Your account has no home grid: choose where the problem is."),
    )


def matter_choices() -> list[SelectChoice]:
    """Admitted matters as options, grouped by category (in the categories' order) for an <optgroup> each."""
    matters = db.session.scalars(select(Matter).where(Matter.admitted.is_(True)).order_by(Matter.code)).all()
    order = {category.value: n for n, category in enumerate(MatterCategory)}
    matters = sorted(matters, key=lambda m: (order.get(m.category, len(order)), m.code))
    return [SelectChoice("", _l("Choose the kind of problem…"))] + [
        SelectChoice(m.code, m.name, optgroup=str(MATTER_CATEGORY_LABELS.get(m.category, m.category)))
        for m in matters
    ]


def _home_grid(user) -> Area | None:
    code = user.area_code or ""
    return (
        db.session.scalar(select(Area).where(Area.code == code, Area.level == AreaLevel.GRID))
        if code
        else None
    )


def _quick_report_url() -> str:
    """The back office's quick report, for staff who open the site's form."""
    try:
        return url_for("event.create_view")
    except BuildError:
        return back_office_url() + "event/new/"


def when_text(moment: datetime) -> str:
    """'14:30' when `moment` is today in the user's timezone, else the short date and time."""
    if to_user_timezone(aware(moment)).date() == to_user_timezone(utcnow()).date():
        return format_time(aware(moment), "HH:mm")
    return format_datetime(aware(moment), "short")


# --- reporting -------------------------------------------------------------------------------------
def _report_form(**kwargs) -> tuple[EventReportForm, Area | None]:
    """The report form for the current user, and their home grid (the grid select only for those without one)."""
    grid = _home_grid(current_user)
    form = EventReportForm(**kwargs)
    form.matter.choices = matter_choices()
    if grid is None:
        form.grid_code.choices = grid_choices(
            current_user.area_code
        )  # the service takes grids of their area only
    else:
        del form.grid_code
    return form, grid


def _render_form(form, status: int = 200, grid: Area | None = None):
    return render_template("marketplace/event_new.html", form=form, grid=grid), status


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    """随手拍: a resident or member reports a problem; it lands with the grid worker of their grid."""
    user = current_user._get_current_object()
    if user.has_back_office:
        return redirect(_quick_report_url())
    if user.role not in REPORTER_ROLES:
        abort(403)
    form, grid = _report_form()
    if request.method == "GET" or not form.validate_on_submit():
        return _render_form(form, grid=grid)
    typed_title = form.title.data
    title = typed_title or service.default_title(form.matter.data, form.description.data)

    def keep(errors: dict) -> dict:
        if not typed_title and len(errors) > 1:
            errors.pop("title", None)  # the title was to be derived: the other fields' errors explain it
        return errors

    on_refusal(form=lambda error: _render_form(mark_fields(form, error, keep), grid=grid))
    photos = attachments.prepare_all(uploaded_photos())  # a refused photo refuses the report: nothing is kept
    event, _created = service.report_event(
        user,
        title=title,
        description=form.description.data,
        matter_code=form.matter.data,
        location_text=form.location_text.data,
        grid_code=grid.code if grid else form.grid_code.data,
    )
    attachments.store(user, attachments.Subject.of_event(event), photos)
    db.session.commit()
    flash(
        _("Reported. Your grid worker will respond by %(time)s.", time=when_text(event.respond_by)), "success"
    )
    return redirect(url_for("marketplace.event_page", event_id=event.id), 303)


# --- my reports ------------------------------------------------------------------------------------
@bp.get("/my/events")
@login_required
def my_events():
    """The events I reported, newest first, a page at a time."""
    if current_user.role not in REPORTER_ROLES:
        abort(403)
    page = parse_page(request.args.get("page"))
    if page is None:
        abort(404)
    query = (
        select(Event)
        .where(Event.reporter_id == current_user.id)
        .options(joinedload(Event.matter), joinedload(Event.grid))
        .order_by(Event.created_at.desc(), Event.id.desc())
    )
    events = db.paginate(query, page=page, per_page=MY_EVENTS_PAGE_SIZE, error_out=False)
    if page > max(events.pages, 1):
        abort(404)
    return render_template(
        "marketplace/my_events.html",
        events=events,
        status_labels=EVENT_STATUS_LABELS,
        with_level=WITH_LEVEL,
        done_statuses=DONE_STATUSES,
        overdue=is_overdue,
    )


# --- one event -------------------------------------------------------------------------------------
def step_actor(step: EventStep, viewer) -> str:
    """Who took a step, as a resident sees it: 'you', the system, or the staff's role — never a name."""
    if step.actor_id is None:
        return _("System")
    if step.actor_id == viewer.id:
        return _("You")
    if step.department is not None:
        return step.department.name
    return str(ROLE_LABELS.get(step.actor.role, step.actor.role))


def deadline_rows(event: Event) -> list[dict]:
    """The respond and resolve deadlines: when, and whether met, met late, overdue or still running."""
    now = utcnow()
    rows = []
    for label, due, met in (
        (_("Respond by"), event.respond_by, event.accepted_at),
        (_("Resolve by"), event.resolve_by, event.resolved_at or event.closed_at),
    ):
        due, met = aware(due), aware(met)
        if met is not None:
            state = "late" if met > due else "met"
        elif event.status in OPEN_EVENT_STATUSES and now > due:
            state = "overdue"
        elif event.status in OPEN_EVENT_STATUSES:
            state = "running"
        else:
            state = "met"
        rows.append({"label": label, "due": due, "state": state})
    return rows


@bp.get("/events/<int:event_id>")
@login_required
def event_page(event_id: int):
    """An event I reported: where it stands, who has it, its history and deadlines; 404 for anyone else's."""
    viewer = current_user._get_current_object()
    event = service.get_visible_event(viewer, event_id)
    if event is None:
        abort(404)
    steps = db.session.scalars(
        select(EventStep)
        .where(EventStep.event_id == event.id)
        .options(joinedload(EventStep.actor), joinedload(EventStep.department))
        .order_by(EventStep.at, EventStep.id)
    ).all()
    closing = next((s for s in reversed(steps) if s.action == EventAction.CLOSE), None)
    step_photos = attachments.of_steps(viewer, steps)
    callback = closing if event.status in DONE_STATUSES else None
    return render_template(
        "marketplace/event.html",
        event=event,
        # an archive step's note is the community's internal score: not the reporter's business
        steps=[
            (s, step_actor(s, viewer), None if s.action == EventAction.ARCHIVE else s.note) for s in steps
        ],
        photos=attachments.listed(attachments.Subject.of_event(event)),
        step_photos=step_photos,
        status_labels=EVENT_STATUS_LABELS,
        action_labels=EVENT_ACTION_LABELS,
        handled_by=None if event.status in DONE_STATUSES else HANDLED_BY.get(event.level),
        deadlines=deadline_rows(event),
        callback=callback,
        admin_url=(back_office_url() + f"event/details/?id={event.id}" if viewer.has_back_office else None),
        **say_context(viewer, event),
    )
