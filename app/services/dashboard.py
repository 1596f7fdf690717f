"""The governance dashboard (治理分析图): aggregates in a user's scope over a period, cached for a few minutes.

Every figure is a GROUP BY over indexed or narrow columns of one table, so a cold dashboard over the
whole district costs a handful of scans; the result is kept per (scope, period) for
DASHBOARD_CACHE_SECONDS, so a warm one costs a cache lookup. Figures hold codes and numbers only:
labels are translated when the page is rendered, so one cached entry serves every language.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, exists, func, or_, select

from app.extensions import cache, db
from app.models import Area, Matter, Member, Unit, Wish
from app.models.base import utcnow
from app.models.choices import STAFF_ROLES, AreaLevel, EventLevel, EventSource, EventStatus, Role, WishStatus
from app.models.events import Dispatch, Event
from app.models.wishes import WishStep
from app.services import callup_roll, compliance, meetings, resident_say, worklogs
from app.services.clock import day_end, day_start
from app.services.coverage import coverage_figures
from app.services.errors import DomainError
from app.services.event_sla import on_time_rates
from app.services.scope import scope_condition
from app.services.stats import COUNTED, count_in_scope

TOP_MATTERS = 8  # matters shown by name; the rest are summed as "other"
TOP_UNITS = 8
OTHER = "other"
# the wish funnel: a wish "reached" a stage when its status is at or past it, or its history passed through it
# (a released, disputed or reopened wish went back a step but did reach the later stage once)
FUNNEL = (
    WishStatus.SUBMITTED,
    WishStatus.PUBLISHED,
    WishStatus.CLAIMED,
    WishStatus.DONE,
    WishStatus.CONFIRMED,
)
# the area level the on-time rate is broken down by, from the length of the user's scope code
ON_TIME_BY = {None: "street", 6: "street", 9: "community", 12: "grid", 15: "grid"}
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class PeriodError(DomainError, ValueError):
    """A date filter that cannot be understood; the message says why, in the user's language: HTTP 422."""

    status = 422
    code = "validation_error"


@dataclass(frozen=True)
class Period:
    """Local calendar days [start, end], both optional, and the UTC instants [since, until) they span."""

    start: date | None = None
    end: date | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.start or ''}..{self.end or ''}"


def _day(text: str | None, label: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            _(
                "%(field)s: “%(value)s” is not a date; use YYYY-MM-DD, e.g. 2026-01-31.",
                field=label,
                value=text[:20],
            )
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise PeriodError(
            _(
                "%(field)s must lie between %(first)s and %(last)s.",
                field=label,
                first=EARLIEST.isoformat(),
                last=LATEST.isoformat(),
            )
        )
    return day


def parse_period(start_text: str | None, end_text: str | None) -> Period:
    """The period of the filter's "from" and "to" days (the district's, inclusive); raises PeriodError on bad input."""
    start, end = _day(start_text, _("From")), _day(end_text, _("To"))
    if start and end and start > end:
        raise PeriodError(
            _(
                "The start date %(start)s is after the end date %(end)s.",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    return Period(start, end, day_start(start) if start else None, day_end(end) if end else None)


def cached(key: tuple, compute) -> dict:
    """`compute()` with the time it was computed, kept for DASHBOARD_CACHE_SECONDS (0: always fresh)."""
    seconds = int(current_app.config.get("DASHBOARD_CACHE_SECONDS") or 0)
    cache_key = "dashboard:" + ":".join(str(part) for part in key)
    if seconds > 0:
        hit = cache.get(cache_key)
        if hit is not None:
            return hit
    value = {"as_of": utcnow(), "figures": compute()}
    if seconds > 0:  # Flask-Caching reads a timeout of 0 as "forever"
        cache.set(cache_key, value, timeout=seconds)
    return value


def scope_key(user) -> str:
    """What a user's figures depend on: their scope prefix (staff) or their department."""
    if user.role == Role.DEPARTMENT:
        return f"department-{user.department_id}"
    prefix = user.scope_prefix
    return "all" if prefix is None else f"area-{prefix}"


def dashboard(user, period: Period = Period(), now: datetime | None = None) -> dict:
    """{"as_of", "figures"} for the user's dashboard: staff see their area, departments their dispatches."""
    if user.role == Role.DEPARTMENT:
        return cached(
            ("department", scope_key(user), period.key), lambda: department_figures(user, period, now)
        )
    if user.role not in STAFF_ROLES:
        raise PermissionError("the dashboard is for staff and departments")
    return cached(("area", scope_key(user), period.key), lambda: area_figures(user, period, now))


def in_period(column, period: Period | None) -> list:
    """WHERE conditions keeping `column` inside the period."""
    conditions = []
    if period is not None and period.since is not None:
        conditions.append(column >= period.since)
    if period is not None and period.until is not None:
        conditions.append(column < period.until)
    return conditions


def _where(model, user, period: Period | None = None) -> list:
    condition = scope_condition(model, user)
    return ([] if condition is None else [condition]) + in_period(model.created_at, period)


def area_figures(user, period: Period, now: datetime | None = None) -> dict:
    """Counts, events, the on-time rate, wishes and members in the user's area; events and wishes in `period`."""
    counts = {key: count_in_scope(model, user) for key, model in COUNTED.items()}
    counts["grids"] = count_in_scope(Area, user, Area.level == AreaLevel.GRID)
    counts["communities"] = count_in_scope(Area, user, Area.level == AreaLevel.COMMUNITY)
    events = event_figures(_where(Event, user, period))
    counts["events"] = events["total"]
    return {
        "counts": counts,
        "events": events,
        "on_time": on_time_figures(user, period, now),
        # the reporters' say on resolved reports (app/services/resident_say.py); "not fixed" also reopened them,
        # so they count as open (and, past the deadline, overdue) in the on-time rate
        "satisfaction": resident_say.satisfaction_figures(user, period.since, period.until),
        "wishes": wish_figures(_where(Wish, user, period)),
        "members": member_figures(_where(Member, user)),
        "compliance": compliance.figures(user),  # today's, whatever the period (app/services/compliance.py)
        "coverage": coverage_figures(user),  # today's, whatever the period (app/services/coverage.py)
        "signatures": worklogs.figures(user),  # today's (app/services/worklogs.py)
        "meetings": meetings.figures(user),  # the last finished quarter (app/services/meetings.py)
        "callups": callup_roll.dashboard_figures(
            user
        ),  # open now, and the last closed (app/services/callup_roll.py)
    }


def _top(counter: Counter, names: dict, limit: int) -> list[tuple[str, int]]:
    """The `limit` largest entries by name, and the rest summed as OTHER."""
    ranked = counter.most_common()
    top = [(names.get(key, str(key)), n) for key, n in ranked[:limit]]
    rest = sum(n for _key, n in ranked[limit:])
    return top + [(OTHER, rest)] if rest else top


VOCABULARIES = {
    "status": (Event.status, EventStatus),
    "level": (Event.level, EventLevel),
    "source": (Event.source, EventSource),
}


def event_figures(conditions: list) -> dict:
    """Events under `conditions`, by status, level, source and matter (top TOP_MATTERS and the rest)."""
    by = {name: Counter() for name in (*VOCABULARIES, "matter")}
    if not conditions:
        # the whole district of all time: each GROUP BY is a scan of a covering index (status, level, matter)
        for name, column in [(n, c) for n, (c, _v) in VOCABULARIES.items()] + [("matter", Event.matter_id)]:
            by[name].update(dict(db.session.execute(select(column, func.count()).group_by(column)).all()))
    else:
        # one pass over the rows of the scope or period, counting every status, level and source per matter;
        # grouping by `matter_id + 0` keeps SQLite from walking the matter index and fetching each row through
        # it (3-5 × slower than a plain scan when the period leaves the covering indexes out)
        pairs = [(name, value) for name, (_c, vocabulary) in VOCABULARIES.items() for value in vocabulary]
        sums = [func.sum(case((VOCABULARIES[name][0] == value.value, 1), else_=0)) for name, value in pairs]
        matter = (Event.matter_id + 0).label("matter")
        for row in db.session.execute(
            select(matter, func.count(), *sums).where(*conditions).group_by(matter)
        ):
            by["matter"][row[0]] += row[1]
            for (name, value), n in zip(pairs, row[2:]):
                if n:
                    by[name][value.value] += n
    names = dict(
        db.session.execute(select(Matter.id, Matter.name).where(Matter.id.in_(list(by["matter"])))).all()
    )
    return {
        "total": sum(by["matter"].values()),
        "status": dict(by["status"]),
        "level": dict(by["level"]),
        "source": dict(by["source"]),
        "matter": _top(by["matter"], names, TOP_MATTERS),
    }


def on_time_figures(user, period: Period, now: datetime | None = None) -> dict:
    """The on-time rate (resolved on time ÷ (resolved + open and overdue)) per area one level down, and overall."""
    prefix = user.scope_prefix
    if prefix == "":  # staff without an area see nothing
        return {"by": "grid", "rows": [], "total": _rate_row("", "", 0, 0, 0)}
    by = ON_TIME_BY.get(None if prefix is None else len(prefix), "grid")
    rows = on_time_rates(by, now, scope=prefix, since=period.since, until=period.until)
    result = [_rate_row(r.key, r.name, r.resolved, r.on_time, r.open_overdue) for r in rows]
    total = _rate_row(
        "", "", sum(r.resolved for r in rows), sum(r.on_time for r in rows), sum(r.open_overdue for r in rows)
    )
    return {"by": by, "rows": result, "total": total}


def _rate_row(key: str, name: str, resolved: int, on_time: int, open_overdue: int) -> dict:
    measured = resolved + open_overdue
    return {
        "key": key,
        "name": name,
        "resolved": resolved,
        "on_time": on_time,
        "open_overdue": open_overdue,
        "rate": round(100 * on_time / measured, 1) if measured else None,
    }


def _reached(stage: WishStatus):
    """SQL: the wish's status is at or past `stage`, or its history went through `stage`."""
    later = FUNNEL[FUNNEL.index(stage) :]
    through = exists().where(WishStep.wish_id == Wish.id, WishStep.to_status == stage)
    return or_(Wish.status.in_(later), through)


def wish_figures(conditions: list) -> dict:
    """The wish funnel (posted → published → claimed → done → confirmed) and the ratings of confirmed wishes."""
    stages = FUNNEL[1:]  # every wish was posted
    row = db.session.execute(
        select(
            func.count(), *[func.coalesce(func.sum(case((_reached(s), 1), else_=0)), 0) for s in stages]
        ).where(*conditions)
    ).one()
    funnel = [(WishStatus.SUBMITTED.value, row[0])] + [(s.value, int(n)) for s, n in zip(stages, row[1:])]
    ratings = dict(
        db.session.execute(
            select(Wish.rating, func.count())
            .where(*conditions, Wish.status == WishStatus.CONFIRMED)
            .group_by(Wish.rating)
        ).all()
    )
    return {"funnel": funnel, "ratings": {("none" if k is None else k): n for k, n in ratings.items()}}


def member_figures(conditions: list) -> dict:
    """Checked-in members, those with service hours, and the hours per check-in unit (top TOP_UNITS and the rest)."""
    total, active = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Member.service_hours > 0, 1), else_=0)), 0)).where(
            *conditions
        )
    ).one()
    hours = db.session.execute(
        select(Member.unit_id, func.sum(Member.service_hours))
        .where(*conditions, Member.service_hours > 0)
        .group_by(Member.unit_id)
    ).all()
    counter = Counter({unit_id: float(h or 0) for unit_id, h in hours})
    names = dict(
        db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_([u for u in counter if u]))).all()
    )
    names[None] = "none"
    units = [(name, round(h, 1)) for name, h in _top(counter, names, TOP_UNITS)]
    return {"total": total, "active": int(active), "units": units}


def department_figures(user, period: Period, now: datetime | None = None) -> dict:
    """A department's dispatches (吹哨) in `period`: by status and matter, and its on-time rate."""
    conditions = [Dispatch.department_id == user.department_id, *in_period(Event.created_at, period)]
    rows = db.session.execute(
        select(Dispatch.status, Event.matter_id, func.count())
        .join(Event, Event.id == Dispatch.event_id)
        .where(*conditions)
        .group_by(Dispatch.status, Event.matter_id)
    ).all()
    status, matter = Counter(), Counter()
    for dispatch_status, matter_id, n in rows:
        status[dispatch_status] += n
        matter[matter_id] += n
    names = dict(db.session.execute(select(Matter.id, Matter.name).where(Matter.id.in_(list(matter)))).all())
    code = user.department.code if user.department is not None else None
    rates = [
        r for r in on_time_rates("department", now, since=period.since, until=period.until) if r.key == code
    ]
    rate = (
        _rate_row(code, rates[0].name, rates[0].resolved, rates[0].on_time, rates[0].open_overdue)
        if rates
        else _rate_row(code or "", "", 0, 0, 0)
    )
    return {
        "dispatches": {
            "total": sum(status.values()),
            "status": dict(status),
            "matter": _top(matter, names, TOP_MATTERS),
        },
        "on_time": rate,
    }
