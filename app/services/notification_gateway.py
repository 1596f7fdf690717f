"""The district's SMS/WeChat gateway: the webhook `notification.created`, with the recipient's phone.

Only endpoints marked `gateway` ever get this topic (or any phone): `send` records their deliveries
in bulk with the notifications. A recipient in their quiet hours gets a non-urgent notification's
delivery at the end of them (the periodic webhook sweep sends it then); urgent ones go at once.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import Member, NotificationPreference, OutboxMessage, Resident, TeamPerson, User
from app.models.choices import URGENT
from app.models.jobs import OutboxStatus
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.services import clock, webhook_listeners
from app.services.outbox import NEW

TOPIC = "notification.created"
DELIVER_JOB = "webhook.deliver"  # app.services.webhooks.DELIVER_JOB (not imported: webhooks imports this)


_GATEWAYS = select(WebhookEndpoint.id).where(
    WebhookEndpoint.active.is_(True), WebhookEndpoint.gateway.is_(True)
)


def gateway_endpoints() -> list[int]:
    """The ids of the active endpoints marked as the district's SMS/WeChat gateway: none without a query when the
    process's copy of the endpoints has none (app/services/webhook_listeners.py), else read again exactly."""
    if not any(listener.gateway for listener in webhook_listeners.listeners()):
        return []
    return list(db.session.scalars(_GATEWAYS))


def phones(user_ids) -> dict[int, str]:
    """Each user's phone: their member record's, else their resident record's, else their team record's."""
    query = (
        select(
            User.id,
            func.coalesce(Member.phone, Resident.phone, TeamPerson.phone),
        )
        .outerjoin(Member, Member.user_id == User.id)
        .outerjoin(Resident, Resident.user_id == User.id)
        .outerjoin(TeamPerson, TeamPerson.user_id == User.id)
        .where(User.id.in_(user_ids))
    )
    return {user_id: phone for user_id, phone in db.session.execute(query) if phone}


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(start: str | None, end: str | None, now: datetime) -> datetime | None:
    """When quiet hours `start`–`end` (district time, "HH:MM", may span midnight) that hold `now` end (UTC);
    None when `now` is outside them (or none are set)."""
    if not start or not end or start == end:
        return None
    local = clock.local_time(now)
    begin, finish, moment = _clock(start), _clock(end), local.time()
    inside = begin <= moment < finish if begin < finish else (moment >= begin or moment < finish)
    if not inside:
        return None
    day = local.date() if moment < finish else local.date() + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=clock.district_zone()).astimezone(UTC)


def _quiet(user_ids, now: datetime) -> dict[int, datetime]:
    """The recipients now in their quiet hours, and when these end."""
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.quiet_start,
            NotificationPreference.quiet_end,
        ).where(NotificationPreference.user_id.in_(user_ids), NotificationPreference.quiet_start.is_not(None))
    )
    until = {user_id: quiet_until(start, end, now) for user_id, start, end in rows}
    return {user_id: moment for user_id, moment in until.items() if moment is not None}


def record_deliveries(endpoints, written, *, kind, link, at: datetime) -> int:
    """Record the gateway deliveries of freshly written notifications `written` [(id, user_id, title, body)], in
    bulk.

    Recipients without a phone are left out. Deliveries due now get their outbox job (sent after the
    commit); those held back by quiet hours wait for the webhook sweep. How many deliveries.
    """
    if not endpoints or not written:
        return 0
    user_ids = sorted({row[1] for row in written})
    phone_of = phones(user_ids)
    urgent = kind in URGENT
    held = {} if urgent else _quiet(user_ids, at)
    stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    rows = []
    for notification_id, user_id, title, body in written:
        phone = phone_of.get(user_id)
        if phone is None:
            continue
        payload = {
            "type": TOPIC,
            "timestamp": stamp,
            "data": {
                "id": notification_id,
                "user_id": user_id,
                "phone": phone,
                "kind": str(kind),
                "title": title,
                "body": body,
                "link": link,
                "urgent": urgent,
                "created_at": stamp,
            },
        }
        for endpoint_id in endpoints:
            rows.append(
                {
                    "endpoint_id": endpoint_id,
                    "event_id": f"msg_notification_{notification_id}",
                    "topic": TOPIC,
                    "payload": payload,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": held.get(user_id, at),
                    "created_at": at,
                }
            )
    if not rows:
        return 0
    deliveries = db.session.execute(
        insert(WebhookDelivery).returning(WebhookDelivery.id, WebhookDelivery.next_attempt_at), rows
    ).all()
    due = [delivery_id for delivery_id, next_at in deliveries if next_at is None or _aware(next_at) <= at]
    if due:
        jobs = db.session.execute(
            insert(OutboxMessage).returning(OutboxMessage.id),
            [
                {
                    "kind": DELIVER_JOB,
                    "key": f"webhook:{delivery_id}:1",
                    "payload": {"delivery_id": delivery_id},
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "run_after": at,
                    "created_at": at,
                }
                for delivery_id in due
            ],
        ).all()
        db.session.info.setdefault(NEW, []).extend(job_id for (job_id,) in jobs)
    return len(deliveries)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
