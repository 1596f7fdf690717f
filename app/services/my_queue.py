"""What waits for the user now ("my queue" on the back-office home), counted fresh, shaped by role.

Each item is a key and a count (and, for events, how many are overdue); every count is the same WHERE
condition the list it links to uses, so following the link shows exactly those rows. Never cached: the
figures follow one's own work at once (the charts below them are cached, app.services.dashboard).
"""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Wish
from app.models.callups import Callup
from app.models.choices import STAFF_ROLES, CallupStatus, Role, WishStatus
from app.models.worklogs import WorkLog
from app.services import compliance, worklogs
from app.services.callbacks import due_count
from app.services.callup_access import visible_condition as callup_visible
from app.services.clock import district_today
from app.services.event_queues import open_supervisions, queue_counts
from app.services.stats import count_in_scope

# the roles whose home shows the charts of their area after the queue (治理分析图)
CHART_ROLES = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN)


def my_queue(user) -> list[dict]:
    """[{"key", "count", "overdue"?}] in the order of the home page: events (a department: its dispatches)
    first, then notices, reviews, callbacks, overdue visits, signatures and call-ups, as the user's role has them."""
    events = queue_counts(user)
    if user.role == Role.DEPARTMENT:
        return [{"key": "dispatches", "count": events["waiting"], "overdue": events["overdue"]}]
    items = [{"key": "events", "count": events["waiting"], "overdue": events["overdue"]}]
    if user.role not in STAFF_ROLES:
        return items
    items.append({"key": "supervisions", "count": open_supervisions(user)})
    items.append({"key": "reviews", "count": count_in_scope(Wish, user, Wish.status == WishStatus.SUBMITTED)})
    items.append({"key": "callbacks", "count": due_count(user)})
    visits = compliance.figures(user, district_today())["households"]  # 责任田 households behind on visits
    items.append({"key": "visits", "count": visits["overdue"]})
    if db.session.scalar(select(worklogs.signer_grids(user).exists())):  # a captain's or a leader's place
        items.append({"key": "signatures", "count": len(awaiting_my_signature(user))})
    items.append({"key": "callups", "count": open_callups(user)})
    return items


def awaiting_my_signature(user) -> list[int]:
    """Ids of the work logs that wait for a signature `user` may give (the list's "awaiting me" filter)."""
    return [log.id for log in worklogs.awaiting_signature(user, WorkLog, limit=1000)]


def open_callups(user) -> int:
    """Open call-ups (社区吹哨) the user sees: the call-up list filtered on "open"."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Callup)
            .where(callup_visible(user), Callup.status == CallupStatus.OPEN)
        )
        or 0
    )
