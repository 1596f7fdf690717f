"""The dashboard's sections for 双签字 and joint meetings (app/services/worklogs.py, app/services/meetings.py)."""

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
