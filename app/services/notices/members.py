"""Notices to checked-in members about their own record: a certificate ready, household visits falling due.

visits_due is told by a periodic task (app.jobs.notices), not by a change: every member whose 责任田 has
households falling due in VISIT_DUE_NOTICE_DAYS (2) district days hears it once per due date — the notice's
subject names the date, and members who have one for it are left out, so running the task again, or on a later
day, tells nobody twice. The rules of "due" are app.services.compliance's (VISIT_INTERVAL_DAYS).
"""

from collections import defaultdict
from datetime import date, timedelta
from functools import partial

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Notification, User
from app.models.certificates import Certificate, CertificateStatus, HonourBatch
from app.models.choices import NotificationKind
from app.models.visits import HouseholdAssignment
from app.services import compliance, notifications
from app.services.clock import district_today
from app.services.notices.common import language, member_account, title

K = NotificationKind

NOTICE_DAYS = 2  # households falling due this many days ahead are told
VISITS_LINK = "/my/visits"
MY_CLAIMS_LINK = "/my/claims"  # a member's wishes, hours and certificates


@notifications.builder(K.CERTIFICATE_READY)
def certificate_ready(certificate_id: int | None = None, batch_id: int | None = None) -> int:
    """A service certificate's PDF is stored: its holder, with the link to download it. An honour batch finished:
    every holder of one of its ready certificates not told of the batch yet (a batch run again adds only some)."""
    if batch_id is not None:
        return _honour_batch_ready(batch_id)
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.status != CertificateStatus.READY:
        return 0
    recipient = db.session.scalar(member_account(certificate.member_id))
    with language(recipient):
        return notifications.send(
            K.CERTIFICATE_READY,
            member_account(certificate.member_id),
            title=title(_("Your service certificate is ready")),
            body=_(
                "Serial %(serial)s: download it, or let anyone verify it by its QR code.",
                serial=certificate.serial,
            ),
            link=f"/certificates/{certificate.serial}.pdf",
            subject=f"certificate:{certificate.id}",
        )


def _honour_batch_ready(batch_id: int) -> int:
    batch = db.session.get(HonourBatch, batch_id)
    if batch is None:
        return 0
    subject = f"honour:{batch.id}"
    holders = (
        select(User.id)
        .join(Member, Member.user_id == User.id)
        .join(Certificate, Certificate.member_id == Member.id)
        .where(
            Certificate.batch_id == batch.id,
            Certificate.status == CertificateStatus.READY,
            ~select(Notification.id)
            .where(
                Notification.user_id == User.id,
                Notification.kind == K.CERTIFICATE_READY,
                Notification.subject == subject,
            )
            .exists(),
        )
    )
    return notifications.send_words(
        K.CERTIFICATE_READY,
        holders,
        lambda: (
            title(_("Your honour certificate is ready")),
            _(
                "For your service from %(start)s to %(end)s: download it from My claims.",
                start=batch.period_start.isoformat(),
                end=batch.period_end.isoformat(),
            ),
        ),
        link=MY_CLAIMS_LINK,
        subject=subject,
    )


def visits_subject(due: date) -> str:
    return f"visits:{due.isoformat()}"


@notifications.builder(K.VISITS_DUE)
def visits_due(due_on: str) -> int:
    """Members whose open 责任田 households fall due on `due_on` (ISO date) and who were not told of that date yet:
    one statement finds them with their count; one send per count tells them (set-based)."""
    due = date.fromisoformat(due_on)
    counted_from = due - timedelta(days=compliance.interval_days())
    subject = visits_subject(due)
    told = (
        select(Notification.id)
        .where(
            Notification.user_id == User.id,
            Notification.kind == K.VISITS_DUE,
            Notification.subject == subject,
        )
        .exists()
    )
    rows = db.session.execute(
        select(User.id, func.count(HouseholdAssignment.id))
        .join(Member, Member.user_id == User.id)
        .join(HouseholdAssignment, HouseholdAssignment.member_id == Member.id)
        .where(
            compliance.open_assignment(),
            compliance.counted_from() == counted_from,
            Member.active.is_(True),
            User.active.is_(True),
            ~told,
        )
        .group_by(User.id)
    ).all()
    by_count: dict[int, list[int]] = defaultdict(list)
    for user_id, households in rows:
        by_count[households].append(user_id)
    sent = 0
    for households, user_ids in sorted(by_count.items()):
        words = partial(_visits_words, households, due)
        sent += notifications.send_words(K.VISITS_DUE, user_ids, words, link=VISITS_LINK, subject=subject)
    return sent


def _visits_words(households: int, due: date) -> tuple[str, str]:
    """The title and body telling a member that `households` of theirs fall due on `due`, in the language in
    force."""
    heading = ngettext(
        "%(num)d household of yours falls due for a visit on %(day)s",
        "%(num)d households of yours fall due for a visit on %(day)s",
        households,
        day=due.isoformat(),
    )
    return title(heading), _("Visit them by then, and record each visit on your visits page.")


def tell_visits_due(today: date | None = None) -> int:
    """Tell the members whose households fall due within the next NOTICE_DAYS days, not told of that date yet
    (catching up a day the task did not run); how many were told. Idempotent."""
    today = today or district_today()
    return sum(visits_due(due_on=(today + timedelta(days=n)).isoformat()) for n in range(1, NOTICE_DAYS + 1))
