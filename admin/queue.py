""" "My queue" on the back-office home: the service's counts (app.services.my_queue) as labelled links to
the lists that show exactly those rows, and the work-log list's "awaiting my signature" filter."""

from flask import url_for
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.worklogs import WorkLog
from app.services import my_queue

MINE = "mine"


class AwaitingMySignatureFilter(BaseSQLAFilter):
    """The work logs that wait for a signature the user may give (the home's "to sign" figure)."""

    def __init__(self):
        super().__init__(WorkLog.id, _l("Awaiting my signature"), options=[(MINE, _l("Yes"))])

    def validate(self, value):
        return value == MINE

    def apply(self, query, value, alias=None):
        return query.filter(WorkLog.id.in_(my_queue.awaiting_my_signature(current_user) or [0]))

    def operation(self):
        return admin_lazy_gettext("equals")


LABELS = {
    "events": _l("Events waiting for you"),
    "dispatches": _l("Dispatches to your department"),
    "supervisions": _l("Open supervision notices"),
    "reviews": _l("Wishes to review"),
    "callbacks": _l("Callbacks due"),
    "visits": _l("Households behind on visits"),
    "signatures": _l("Work logs awaiting your signature"),
    "callups": _l("Open call-ups"),
}


def _filter_arg(endpoint: str, filter_class) -> str:
    """The list's URL argument (flt0_<index>) of its filter of class `filter_class`."""
    from flask import current_app

    for view in current_app.extensions["admin"][0]._views:
        if getattr(view, "endpoint", None) == endpoint:
            index = next(i for i, f in enumerate(view._filters) if isinstance(f, filter_class))
            return f"flt0_{index}"
    raise LookupError(endpoint)


def _url(key: str) -> str:
    if key in ("events", "dispatches"):
        return url_for("event_queue.index_view")
    if key == "supervisions":
        return url_for("supervision.index_view")  # open notices by default
    if key == "reviews":
        return url_for("wish_review.index_view")
    if key == "callbacks":
        return url_for("callback.index_view", flt0_0="due")
    if key == "visits":
        return url_for("compliance.index")  # its households table lists them (up to 200)
    if key == "signatures":
        return url_for("worklog.index_view", **{_filter_arg("worklog", AwaitingMySignatureFilter): MINE})
    return url_for("callup.index_view", flt0_0="open")


def queue_items(user) -> list[dict]:
    """The home's queue: [{"key", "label", "count", "overdue", "url"}]."""
    return [
        {
            **item,
            "label": str(LABELS[item["key"]]),
            "url": _url(item["key"]),
            "overdue": item.get("overdue", 0),
        }
        for item in my_queue.my_queue(user)
    ]
