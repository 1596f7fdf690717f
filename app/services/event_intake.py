"""Events coming in: a report from a resident, a member, staff, a department or the 12345 hotline, and campaigns.

Functions flush and never commit: the caller owns the transaction.
"""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.ids import parse_id
from app.models import Area, Matter, Resident, User
from app.models.base import utcnow
from app.models.choices import STAFF_ROLES, AreaLevel, EventAction, EventLevel, EventSource, EventStatus, Role
from app.models.events import (
    ACTING_FOR_MAX,
    DESCRIPTION_MAX,
    EXTERNAL_REF_MAX,
    LOCATION_MAX,
    TITLE_MAX,
    Campaign,
    Event,
    EventStep,
)
from app.services import audit
from app.services.clock import district_today
from app.services.errors import Conflict, Invalid, Limited
from app.services.event_reporting import REPORTER_ROLES, seconds_until_next_report
from app.services.scope import apply_reach, code_in_scope
from app.services.signals import event_changed
from app.services.text import check_text

DEFAULT_MINUTES = (15, 30, 1440)  # respond, reply, resolve, when the matter names no policy


def deadlines_for(matter: Matter, reported_at: datetime) -> tuple[datetime, datetime, datetime]:
    """respond_by, reply_by and resolve_by of an event of `matter` reported at `reported_at`."""
    policy = matter.sla_policy
    minutes = (
        (policy.respond_minutes, policy.reply_minutes, policy.resolve_minutes)
        if policy is not None
        else DEFAULT_MINUTES
    )
    return tuple(reported_at + timedelta(minutes=m) for m in minutes)


class EventLimited(Limited):
    """Too many reports in a short time: HTTP 429; another is accepted in `retry_after` seconds."""

    code = "too_many_reports"


# the sources each kind of reporter may claim
SOURCES_BY_ROLE = {
    Role.RESIDENT: (EventSource.RESIDENT,),
    Role.MEMBER: (EventSource.RESIDENT,),
    Role.INTEGRATION: (EventSource.HOTLINE, EventSource.E_PATROL),
    Role.DEPARTMENT: (EventSource.DEPARTMENT,),
}
DEFAULT_SOURCE = {
    Role.RESIDENT: EventSource.RESIDENT,
    Role.MEMBER: EventSource.RESIDENT,
    Role.INTEGRATION: EventSource.HOTLINE,
    Role.DEPARTMENT: EventSource.DEPARTMENT,
}
# the deadline a step meets, so its supervision (if any) is settled


SUMMARY_CHARS = 16  # the words of the description a blank title borrows


def default_title(matter_code: str | None, description: str | None) -> str:
    """A title for a report given without one: the matter's name, '：' and the description's first words,
    at most TITLE_MAX characters ('' without either)."""
    matter = db.session.scalar(select(Matter).where(Matter.code == (matter_code or "")))
    words = " ".join((description or "").split())
    if len(words) > SUMMARY_CHARS:
        words = words[:SUMMARY_CHARS].rstrip() + "…"
    parts = [p for p in ((matter.name if matter else ""), words) if p]
    return "：".join(parts)[:TITLE_MAX]


def report_event(
    actor: User,
    *,
    title,
    description,
    matter_code,
    grid_code=None,
    location_text=None,
    source=None,
    external_ref=None,
    acting_for=None,
    campaign_id=None,
    now: datetime | None = None,
) -> tuple[Event, bool]:
    """Report an event at grid level of its grid; (the event, whether it was created now).

    An integration user (the 12345 hotline) passes its ticket id as `external_ref`: a repeat with the
    same ref returns the first event and creates nothing, even when the repeats race each other.
    """
    now = now or utcnow()
    errors: dict[str, str] = {}
    external_ref = check_text(errors, "external_ref", external_ref, EXTERNAL_REF_MAX, False, _("Ticket id"))
    if external_ref is not None and actor.role != Role.INTEGRATION:
        errors["external_ref"] = _("Only the hotline integration gives ticket ids.")
    if errors:
        raise Invalid(errors)
    if external_ref is not None:
        existing = _existing(actor, external_ref)
        if existing is not None:
            return existing, False

    reporter = actor.role in REPORTER_ROLES
    if reporter and (retry_after := seconds_until_next_report(actor, now)):
        raise EventLimited(
            _(
                "You have sent many reports in a short time. Please try again later, "
                "or call your grid worker if it is urgent."
            ),
            retry_after,
        )
    title = check_text(errors, "title", title, TITLE_MAX, True, _("Title"))
    description = check_text(errors, "description", description, DESCRIPTION_MAX, False, _("Description"))
    location_text = check_text(errors, "location_text", location_text, LOCATION_MAX, False, _("Location"))
    if reporter:  # staff may leave these out (a quick note from patrol); a resident's report needs both
        if description is None and "description" not in errors:
            errors["description"] = _("Say what is wrong.")
        if location_text is None and "location_text" not in errors:
            errors["location_text"] = _("Say where it is, so the grid worker can find it.")
    matter = db.session.scalar(select(Matter).where(Matter.code == str(matter_code or "")))
    if matter is None:
        errors["matter"] = _("Choose a matter from the matter list.")
    elif not matter.admitted:
        errors["matter"] = _("This matter is not admitted to the grid's matter list (准入).")

    allowed = SOURCES_BY_ROLE.get(Role(actor.role), tuple(EventSource))
    source = source or DEFAULT_SOURCE.get(Role(actor.role), EventSource.PATROL)
    if source not in allowed:
        errors["source"] = _("Choose one of the sources: %(choices)s.", choices=", ".join(allowed))

    if reporter and not grid_code:
        grid_code = actor.area_code
    grid = db.session.scalar(
        select(Area).where(Area.code == str(grid_code or ""), Area.level == AreaLevel.GRID)
    )
    if grid is None:
        errors["grid_code"] = _("Choose an existing grid.")
    elif actor.role in (*STAFF_ROLES, Role.INTEGRATION) and not code_in_scope(actor, grid.code):
        errors["grid_code"] = _("You can only report events in your own area.")
    elif reporter and not grid.code.startswith(actor.area_code or "-"):
        errors["grid_code"] = _("You can report only in your own grid.")

    acting_for = _acting_for(errors, actor, acting_for)
    campaign_id = _campaign(errors, campaign_id, matter, grid, now)
    if errors:
        raise Invalid(errors)

    respond_by, reply_by, resolve_by = deadlines_for(matter, now)
    values = {
        "title": title,
        "description": description,
        "matter_id": matter.id,
        "grid_code": grid.code,
        "location_text": location_text,
        "source": source,
        "reporter_id": actor.id,
        "acting_for": acting_for,
        "external_ref": external_ref,
        "level": EventLevel.GRID,
        "status": EventStatus.REPORTED,
        "campaign_id": campaign_id,
        "respond_by": respond_by,
        "reply_by": reply_by,
        "resolve_by": resolve_by,
        "created_at": now,
        "updated_at": now,
    }
    if external_ref is None:
        event = Event(**values)
        db.session.add(event)
        db.session.flush()
    else:
        event = _insert_once(actor, values)
        if event is None:  # another request with the same ticket got there first
            return _existing(actor, external_ref), False
    db.session.add(
        EventStep(
            event_id=event.id,
            actor_id=actor.id,
            action=EventAction.REPORT,
            from_status=None,
            to_status=EventStatus.REPORTED,
            from_level=None,
            to_level=EventLevel.GRID,
            at=now,
        )
    )
    audit.record(actor, "create", event, None, audit.snapshot(event))
    db.session.flush()
    event_changed.send(event, action=EventAction.REPORT, actor=actor)
    return event, True


def _existing(actor: User, external_ref: str) -> Event | None:
    event = db.session.scalar(select(Event).where(Event.external_ref == external_ref))
    if event is not None and event.reporter_id != actor.id:
        raise Conflict(_("Another client already used this ticket id."), code="idempotency_conflict")
    return event


def _insert_once(actor: User, values: dict) -> Event | None:
    """INSERT … ON CONFLICT (external_ref) DO NOTHING: the new event, or None when the ref exists.

    The unique constraint decides between racing requests: on PostgreSQL the loser waits for the
    winner's commit and inserts nothing; SQLite writers are serial anyway.
    """
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    event_id = db.session.execute(
        insert(Event)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["external_ref"])
        .returning(Event.id)
    ).scalar()
    return db.session.get(Event, event_id) if event_id is not None else None


def _acting_for(errors: dict, actor: User, value) -> str | None:
    """帮办代办: staff report for someone — a name, or a census record (its id) in their scope."""
    if value in (None, ""):
        return None
    if actor.role not in STAFF_ROLES:
        errors["acting_for"] = _("Only grid staff report on someone's behalf.")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        resident = db.session.get(Resident, value) if parse_id(value) else None
        if resident is None or not code_in_scope(actor, resident.grid_code):
            errors["acting_for"] = _("Choose a resident from your own area.")
            return None
        return f"resident:{resident.id}"
    return check_text(errors, "acting_for", value, ACTING_FOR_MAX, False, _("Reported for"))


def _campaign(
    errors: dict, campaign_id, matter: Matter | None, grid: Area | None, now: datetime
) -> int | None:
    """A campaign (专项治理) the event belongs to: running today, covering its grid, of its matter if it names one."""
    if campaign_id in (None, ""):
        return None
    campaign_id = parse_id(campaign_id)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign is None:
        errors["campaign_id"] = _("Choose an existing campaign.")
    elif not campaign_running(campaign, now):
        errors["campaign_id"] = _("This campaign is not running today.")
    elif grid is not None and not grid.code.startswith(campaign.area_code):
        errors["campaign_id"] = _("This campaign does not cover the event's grid.")
    elif matter is not None and campaign.matter_id not in (None, matter.id):
        errors["campaign_id"] = _("This campaign is about another matter.")
    else:
        return campaign.id
    return None


def campaign_running(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether `campaign`'s period covers today, the district's date (at `now`, a UTC moment, when given)."""
    today = district_today(now)
    return campaign.starts_on <= today and (campaign.ends_on is None or today <= campaign.ends_on)


def running_campaigns(user: User, now: datetime | None = None) -> list[Campaign]:
    """The campaigns an event `user` reports may join: running today and set for their area or one above it."""
    today = district_today(now)
    query = (
        select(Campaign)
        .where(Campaign.starts_on <= today, or_(Campaign.ends_on.is_(None), Campaign.ends_on >= today))
        .order_by(Campaign.name)
    )
    return list(db.session.scalars(apply_reach(query, Campaign, user)))
