"""Honour batches: certificates for every member of an area or unit with confirmed hours in a period.

A batch is found or created once per scope and period; running it again adds only the certificates still
missing. Each certificate is issued and rendered like any other (app.services.certificates). Like every
domain service, these functions flush and never commit.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Area, Member, Unit, Wish
from app.models.base import under_area, utcnow
from app.models.certificates import Certificate, CertificateKind, HonourBatch
from app.models.choices import AreaLevel, WishStatus
from app.services import audit
from app.services.certificates import enqueue_render, invalid, new_certificate, refresh_batch_progress
from app.services.clock import day_end, day_start, district_today
from app.services.scope import apply_scope

BATCH_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)


@dataclass(frozen=True)
class BatchScope:
    """Whose members a batch covers: an area (district, street or community) or a check-in unit."""

    key: str  # "area:<code>" or "unit:<id>"
    area_code: str
    unit_id: int | None
    label: str

    def member_condition(self):
        if self.unit_id is not None:
            return Member.unit_id == self.unit_id
        return under_area(Member.grid_code, self.area_code)


def batch_scopes(user) -> list[BatchScope]:
    """The scopes `user` may start a batch for: areas of the batch levels and units, inside their area."""
    areas = db.session.scalars(
        apply_scope(select(Area), Area, user).where(Area.level.in_(BATCH_LEVELS)).order_by(Area.code)
    )
    units = db.session.scalars(apply_scope(select(Unit), Unit, user).order_by(Unit.name))
    return [BatchScope(f"area:{a.code}", a.code, None, f"{a.name} ({a.code})") for a in areas] + [
        BatchScope(f"unit:{u.id}", u.community_code, u.id, u.name) for u in units
    ]


def resolve_scope(user, key: str) -> BatchScope:
    for scope in batch_scopes(user):
        if scope.key == key:
            return scope
    raise invalid(_("Choose a unit, community or district from the list."))


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants a period of local calendar days covers: [start 00:00, the day after end 00:00)."""
    return day_start(start), day_end(end)


def members_with_hours(scope: BatchScope, start: date, end: date) -> list[tuple[Member, Decimal]]:
    """Members of the scope and their confirmed service hours in the period, those with hours > 0."""
    since, until = period_bounds(start, end)
    hours = func.sum(Wish.hours).label("hours")
    return [
        (member, total)
        for member, total in db.session.execute(
            select(Member, hours)
            .join(Wish, Wish.claimed_by_id == Member.id)
            .where(
                scope.member_condition(),
                Wish.status == WishStatus.CONFIRMED,
                Wish.confirmed_at >= since,
                Wish.confirmed_at < until,
            )
            .group_by(Member.id)
            .having(hours > 0)
            .order_by(Member.id)
        )
    ]


def check_period(start, end) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise invalid(_("Give the first and the last day of the period."))
    if end < start:
        raise invalid(_("The period ends before it starts."))
    if end > district_today():
        raise invalid(_("The period must have ended: its last day is today at the latest."))


def start_honour_batch(actor, scope_key: str, start: date, end: date) -> tuple[HonourBatch, int]:
    """Find or create the batch of this scope and period, add the certificates still missing; (batch, added).

    Audited: the batch created, or run again, with its scope, period and counts.
    """
    scope = resolve_scope(actor, scope_key)
    check_period(start, end)
    batch, created = _find_or_create_batch(actor, scope, start, end)
    existing = set(db.session.scalars(select(Certificate.member_id).where(Certificate.batch_id == batch.id)))
    now, issuers = utcnow(), {}
    added = [
        new_certificate(
            member,
            issuers,
            kind=CertificateKind.HONOUR,
            batch_id=batch.id,
            hours=hours,
            period_start=start,
            period_end=end,
            issued_at=now,
        )
        for member, hours in members_with_hours(scope, start, end)
        if member.id not in existing
    ]
    db.session.add_all(added)
    db.session.flush()
    for certificate in added:
        enqueue_render(certificate)
    batch.requested_by_id, batch.last_run_at = getattr(actor, "id", None), now
    refresh_batch_progress(batch.id)
    audit.record(
        actor,
        "create" if created else "update",
        batch,
        None,
        {
            "scope": batch.scope_key,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "added": len(added),
            "total": batch.total,
        },
    )
    return batch, len(added)


def _find_or_create_batch(actor, scope: BatchScope, start: date, end: date) -> tuple[HonourBatch, bool]:
    created = False
    lookup = select(HonourBatch).where(
        HonourBatch.scope_key == scope.key, HonourBatch.period_start == start, HonourBatch.period_end == end
    )
    batch = db.session.scalar(lookup)
    if batch is None:
        try:
            with db.session.begin_nested():  # someone else may be starting the same batch right now
                batch = HonourBatch(
                    scope_key=scope.key,
                    area_code=scope.area_code,
                    unit_id=scope.unit_id,
                    period_start=start,
                    period_end=end,
                    requested_by_id=getattr(actor, "id", None),
                )
                db.session.add(batch)
            created = True
        except IntegrityError:
            batch = db.session.scalar(lookup)
    # PostgreSQL: two runs of one batch take turns, so neither adds a certificate the other is adding
    db.session.execute(select(HonourBatch.id).where(HonourBatch.id == batch.id).with_for_update())
    return batch, created


def batch_progress(batch: HonourBatch) -> dict:
    return {"id": batch.id, "done": batch.done, "total": batch.total, "finished": batch.done >= batch.total}
