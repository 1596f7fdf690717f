"""The dashboard's sections for 双签字, joint meetings and call-ups (app/services/worklogs.py, meetings.py,
callup_roll.py)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

FIELDS = [("n", _l("Count"))]


def _row(key: str, label, n: int) -> dict:
    return {"key": key, "label": str(label), "values": {"n": n}}


def signatures_section(figures: dict) -> dict:
    """Grids whose work log went quiet, and the logs and records still awaiting their two signatures."""
    return {
        "key": "signatures",
        "title": _("Work logs and records (双签字)"),
        "chart": "bar",
        "fields": FIELDS,
        "rows": [
            _row("grids", _("Grids"), figures["grids"]),
            _row("stale", _("Grids without a log for %(days)d days", days=figures["days"]), figures["stale"]),
            _row("logs_awaiting", _("Work logs awaiting signatures"), figures["logs_awaiting"]),
            _row("records_awaiting", _("Work records awaiting signatures"), figures["records_awaiting"]),
        ],
        "note": _("Each log and record is signed by the grid's vanguard captain and its grid leader."),
    }


def meetings_section(figures: dict) -> dict:
    """Communities without a joint meeting last quarter; service items open and overdue."""
    year, quarter = figures["quarter"]
    return {
        "key": "meetings",
        "title": _("Joint meetings and service items"),
        "chart": "bar",
        "fields": FIELDS,
        "rows": [
            _row("communities", _("Communities"), figures["communities"]),
            _row(
                "unmet",
                _("Without a meeting in %(year)d Q%(quarter)d", year=year, quarter=quarter),
                figures["unmet"],
            ),
            _row("open_items", _("Service items open"), figures["open_items"]),
            _row("overdue_items", _("Service items past their due date"), figures["overdue_items"]),
        ],
        "note": _(
            "Each quarter every community meets with its check-in units (its own meeting or its street's)."
        ),
    }


def minutes_text(seconds) -> str:
    """A duration in whole minutes, or a dash when there is none."""
    return "–" if seconds is None else _("%(m)d min", m=round(seconds / 60))


def callups_section(figures: dict) -> dict:
    """Emergency call-ups: open now, closed, and the last closed one's roll and figures."""
    last = figures["last"]
    rows = [
        _row("open", _("Call-ups open"), figures["open"]),
        _row("closed", _("Call-ups closed"), figures["closed"]),
    ]
    note = _("No call-up closed yet.")
    if last is not None:
        rows += [
            _row("last_needed", _("Last closed: people needed"), last["needed"]),
            _row("last_coming", _("Last closed: said they were coming"), last["coming"]),
            _row("last_arrived", _("Last closed: arrived"), last["arrived"]),
        ]
        rate = "–" if last["arrival_rate"] is None else f"{round(last['arrival_rate'] * 100)}%"
        note = _(
            "Last closed: “%(title)s”. Time to the first arrival %(first)s, to the number needed %(needed)s; "
            "arrival rate (arrived ÷ coming) %(rate)s.",
            title=last["title"],
            first=minutes_text(last["seconds_to_first_arrival"]),
            needed=minutes_text(last["seconds_to_needed"]),
            rate=rate,
        )
    return {
        "key": "callups",
        "title": _("Emergency call-ups (社区吹哨、党员报到)"),
        "chart": "bar",
        "fields": FIELDS,
        "rows": rows,
        "note": note,
    }
