"""The dashboard on the back-office home: the period filter, the figures and their labels, chart by chart.

Each section is one chart and the same numbers as a table (for screen readers, phones without JavaScript
and tests): {"key", "title", "chart": "pie"|"bar"|"funnel"|"percent", "fields": [(field, header)],
"rows": [{"key", "label", "values": {field: value}}], "note"}.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.views.coverage import coverage_section
from admin.views.work_dashboard import callups_section, meetings_section, signatures_section
from app.models.choices import (
    EVENT_LEVEL_LABELS,
    EVENT_SOURCE_LABELS,
    EVENT_STATUS_LABELS,
    RATING_LABELS,
    Role,
)
from app.models.events import Event
from app.services.compliance import interval_days
from app.services.dashboard import OTHER, Period, PeriodError, dashboard, parse_period
from app.services.my_queue import CHART_ROLES
from app.services.stats import COUNTED, count_in_scope

FUNNEL_LABELS = {
    "submitted": _l("Posted"),
    "published": _l("Published"),
    "claimed": _l("Claimed"),
    "done": _l("Done"),
    "confirmed": _l("Confirmed"),
}
ON_TIME_BY_LABELS = {"street": _l("Street"), "community": _l("Community"), "grid": _l("Grid")}


def home_context(user, args) -> dict:
    """What templates/admin/home.html needs besides the to-do list: the filter, the figures, the sections."""
    error = None
    try:
        period = parse_period(args.get("from"), args.get("to"))
    except PeriodError as exc:
        error, period = str(exc), Period()
    if user.role not in CHART_ROLES:  # a grid worker's and a department's home is their queue
        counts = grid_counts(user) if user.role == Role.GRID_WORKER else None
        return {"period": Period(), "period_error": None, "counts": counts, "sections": []}
    result = dashboard(user, period)
    figures = result["figures"]
    context = {
        "period": period,
        "period_error": error,
        "as_of": result["as_of"],
        "from_text": (args.get("from") or "")[:20],
        "to_text": (args.get("to") or "")[:20],
    }
    counts = dict(figures["counts"])
    if user.role == Role.COMMUNITY_ADMIN:  # their one community is no figure
        counts.pop("communities", None)
    return context | {"counts": counts, "sections": area_sections(figures)}


def grid_counts(user) -> dict:
    """A grid worker's own grid in figures (no grids or communities to count), counted fresh."""
    counts = {key: count_in_scope(model, user) for key, model in COUNTED.items()}
    return counts | {"events": count_in_scope(Event, user)}


def _n(key: str, label, n) -> dict:
    return {"key": key, "label": str(label), "values": {"n": n}}


def _labelled(counts: dict, labels: dict) -> list[dict]:
    """One row per known code, in the vocabulary's order, zeros included; unknown codes after them."""
    rows = [_n(str(code), label, counts.get(str(code), 0)) for code, label in labels.items()]
    rows += [_n(code, code, n) for code, n in counts.items() if code not in {str(c) for c in labels}]
    return rows


def _named(pairs: list) -> list[dict]:
    """Rows from (name, value) pairs whose names come from the database; OTHER is the summed tail."""
    return [
        _n(f"top{i}" if name != OTHER else OTHER, _("Other") if name == OTHER else name, n)
        for i, (name, n) in enumerate(pairs, 1)
    ]


COUNT = [("n", _l("Count"))]


def area_sections(figures: dict) -> list[dict]:
    events, wishes, members, on_time = (
        figures["events"],
        figures["wishes"],
        figures["members"],
        figures["on_time"],
    )
    rating_labels = {**RATING_LABELS, "none": _l("No rating (confirmed automatically)")}
    active = members["active"]
    return [
        {
            "key": "events-status",
            "title": _("Events by status"),
            "chart": "pie",
            "fields": COUNT,
            "rows": _labelled(events["status"], EVENT_STATUS_LABELS),
        },
        {
            "key": "events-level",
            "title": _("Events by level"),
            "chart": "bar",
            "fields": COUNT,
            "rows": _labelled(events["level"], EVENT_LEVEL_LABELS),
        },
        {
            "key": "events-matter",
            "title": _("Events by matter"),
            "chart": "bar",
            "fields": COUNT,
            "rows": _named(events["matter"]),
        },
        {
            "key": "events-source",
            "title": _("Events by source"),
            "chart": "pie",
            "fields": COUNT,
            "rows": _labelled(events["source"], EVENT_SOURCE_LABELS),
        },
        on_time_section(on_time),
        say_section(figures["satisfaction"]),
        compliance_section(figures["compliance"]),
        coverage_section(figures["coverage"]),
        signatures_section(figures["signatures"]),
        meetings_section(figures["meetings"]),
        callups_section(figures["callups"]),
        {
            "key": "wishes-funnel",
            "title": _("Micro-wishes: how far they got"),
            "chart": "funnel",
            "fields": COUNT,
            "rows": [_n(stage, FUNNEL_LABELS[stage], n) for stage, n in wishes["funnel"]],
            "note": _("Each wish counts at every stage it reached, even if it went back a step later."),
        },
        {
            "key": "wishes-rating",
            "title": _("Ratings of confirmed wishes"),
            "chart": "pie",
            "fields": COUNT,
            "rows": _labelled(wishes["ratings"], rating_labels),
        },
        {
            "key": "members-active",
            "title": _("Checked-in members with service hours"),
            "chart": "pie",
            "fields": COUNT,
            "rows": [
                _n("active", _("With service hours"), active),
                _n("inactive", _("No hours yet"), members["total"] - active),
            ],
            "note": _(
                "%(active)d of %(total)d members; service hours of all time.",
                active=active,
                total=members["total"],
            ),
        },
        {
            "key": "members-units",
            "title": _("Service hours per check-in unit"),
            "chart": "bar",
            "fields": [("n", _l("Hours"))],
            "rows": [
                _n(row["key"], _("No unit") if row["label"] == "none" else row["label"], row["values"]["n"])
                for row in _named(members["units"])
            ],
            "note": _("Members' service hours of all time, by the unit they checked in with."),
        },
    ]


def compliance_section(figures: dict) -> dict:
    """双报到 today: members, units and 责任田 households, how many are behind (app/services/compliance.py)."""
    rows = [
        ("members", _("Checked-in members"), figures["members"]["total"], figures["members"]["overdue"]),
        ("units", _("Check-in units"), figures["units"]["total"], figures["units"]["overdue"]),
        (
            "households",
            _("Households in 责任田"),
            figures["households"]["assigned"],
            figures["households"]["overdue"],
        ),
    ]
    return {
        "key": "compliance",
        "title": _("Visits and activities: who is behind today"),
        "chart": "bar",
        "chart_field": "overdue",
        "fields": [("total", _l("Total")), ("overdue", _l("Overdue"))],
        "rows": [
            {"key": k, "label": str(label), "values": {"total": t, "overdue": o}} for k, label, t, o in rows
        ],
        "note": _(
            "A household is overdue after %(n)d days without a visit, a member when any of their households is, "
            "a unit when a whole calendar month passed without an activity in its community.",
            n=interval_days(),
        ),
    }


def on_time_section(on_time: dict) -> dict:
    """The on-time rate per area one level down, and overall."""
    fields = [
        ("resolved", _l("Resolved")),
        ("on_time", _l("On time")),
        ("open_overdue", _l("Open, overdue")),
        ("rate", _l("On-time rate (%)")),
    ]

    def row(r: dict, key: str, label) -> dict:
        return {"key": key, "label": str(label), "values": {f: r[f] for f, _h in fields}}

    rows = [row(r, r["key"], r["name"]) for r in on_time["rows"]]
    rows.append(row(on_time["total"], "total", _("All")))
    return {
        "key": "on-time",
        "title": _("On-time rate by %(level)s", level=ON_TIME_BY_LABELS[on_time["by"]]),
        "chart": "percent",
        "chart_field": "rate",
        "fields": fields,
        "rows": rows,
        "note": _("Resolved on time ÷ (resolved + open and overdue), of the events reported in the period."),
    }


def say_section(say: dict) -> dict:
    """The reporters' say on resolved reports: their ratings, how many said fixed (app/services/resident_say.py)."""
    rows = _labelled(say["ratings"], RATING_LABELS)
    rows.append(_n("not_fixed", _("Not fixed (reopened)"), say["not_fixed"]))
    rate = "–" if say["rate"] is None else f"{say['rate']}%"
    return {
        "key": "residents-say",
        "title": _("Residents' say on resolved reports"),
        "chart": "bar",
        "fields": COUNT,
        "rows": rows,
        "note": _(
            "%(answered)d answers, %(fixed)d fixed; satisfied (good or average): %(rate)s. A report said not "
            "fixed went back to work and counts as open in the on-time rate.",
            answered=say["answered"],
            fixed=say["fixed"],
            rate=rate,
        ),
    }


def chart_spec(section: dict) -> dict:
    """What static/js/charts.js draws: the chart type and (label, value) pairs."""
    field = section.get("chart_field", "n")
    rows = [r for r in section["rows"] if r["key"] != "total"] or section["rows"]
    return {"type": section["chart"], "items": [[r["label"], r["values"][field]] for r in rows]}


def period_label(period: Period) -> str:
    if period.start and period.end:
        return _(
            "Reported from %(start)s to %(end)s", start=period.start.isoformat(), end=period.end.isoformat()
        )
    if period.start:
        return _("Reported on or after %(start)s", start=period.start.isoformat())
    if period.end:
        return _("Reported on or before %(end)s", end=period.end.isoformat())
    return _("All time")
