"""Who is told of a change: the receivers app.reactions connects, each telling its notices in the change's
transaction (`notifications.tell`: ids and plain values only). The words and the recipients are the builders'
work, after the commit (app.services.notices.wishes, reports, queues, members). So a change that rolls back tells
nobody, and each change is told once: one step, one signal, one notice per kind. The owner's "claimed" notice is
not here: the claim's own statement writes it (`notices.wishes.claimed_with_step`, declared in app.reactions).
"""

from sqlalchemy import select

from app.extensions import db
from app.models import User, WishStep
from app.models.callbacks import CallbackSubject
from app.models.certificates import HonourBatch
from app.models.choices import EventAction, EventLevel, NotificationKind, WishAction
from app.models.events import Event, EventStep
from app.services import notifications
from app.services.event_reporting import REPORTER_ROLES

K = NotificationKind

# a wish's step → what its owner (the resident) is told (a claim's notice is written by the claim's own statement:
# notices.wishes.claimed_with_step)
OWNER_KINDS = {
    WishAction.PUBLISH: K.WISH_PUBLISHED,
    WishAction.REJECT: K.WISH_REJECTED,
    WishAction.COMPLETE: K.WISH_DONE,
    WishAction.AUTO_CONFIRM: K.WISH_AUTO_CONFIRMED,
}

# an event's step → what its reporter (a resident or member, 随手拍) is told
REPORTER_KINDS = {
    EventAction.ACCEPT: K.REPORT_ACCEPTED,
    EventAction.ESCALATE: K.REPORT_ESCALATED,
    EventAction.RESOLVE: K.REPORT_RESOLVED,
    EventAction.CLOSE: K.REPORT_CLOSED,
}
# steps whose note the reporter reads on their report's page (all but the archive's score): a note is a reply
REPLY_STEPS = (
    EventAction.START,
    EventAction.DISPATCH,
    EventAction.ANSWER,
    EventAction.VERIFY,
    EventAction.VERIFY_FAIL,
    EventAction.REOPEN,
)

IDS_PER_JOB = 1000  # a sweep's ids go to the builders in lists of at most this many


def _actor_id(actor) -> int | None:
    return getattr(actor, "id", None)


def _last_step(model, key, subject_id: int) -> int | None:
    """The id of the history row the step just wrote."""
    return db.session.scalar(
        select(model.id).where(getattr(model, key) == subject_id).order_by(model.id.desc()).limit(1)
    )


def _callback_task(subject: CallbackSubject, subject_id: int) -> None:
    """The step opens a callback task (the callbacks' receiver, in whatever order receivers run): the builder finds
    it after the commit."""
    notifications.tell(K.CALLBACK_DUE, subject_type=str(subject), subject_id=subject_id)


# --- wishes ----------------------------------------------------------------------------------------
def on_wish_changed(wish, action=None, actor=None, **_kwargs) -> None:
    """A wish's step: its owner, the members of its community, its member, its reviewers are told."""
    actor_id = _actor_id(actor)
    kind = OWNER_KINDS.get(action)
    if kind is not None and wish.owner_id is not None and wish.owner_id != actor_id:
        notifications.tell(kind, wish_id=wish.id)
    if action in (WishAction.POST, WishAction.RESUBMIT):  # (again) in its reviewers' queue
        notifications.tell(K.REVIEW_QUEUE, wish_id=wish.id, actor_id=actor_id)
    elif action == WishAction.PUBLISH:
        notifications.tell(K.NEW_WISH, wish_id=wish.id)
    elif action == WishAction.RELEASE:
        # the claimer is gone from the wish: the claim step says who it was; told when someone else released it
        claimer = db.session.scalar(
            select(WishStep.actor_id)
            .where(WishStep.wish_id == wish.id, WishStep.action == WishAction.CLAIM)
            .order_by(WishStep.id.desc())
            .limit(1)
        )
        if claimer is not None and claimer != actor_id:
            notifications.tell(K.CLAIM_RELEASED, wish_id=wish.id, user_id=claimer)
    elif action == WishAction.DISPUTE:
        notifications.tell(K.WISH_DISPUTED, wish_id=wish.id, step_id=_last_step(WishStep, "wish_id", wish.id))
    if action in (WishAction.CONFIRM, WishAction.AUTO_CONFIRM):
        _callback_task(CallbackSubject.WISH, wish.id)


# --- events ----------------------------------------------------------------------------------------
def _reported_by_resident(event) -> bool:
    reporter = db.session.get(User, event.reporter_id)
    return reporter is not None and reporter.role in REPORTER_ROLES


def on_event_changed(event, action=None, actor=None, **_kwargs) -> None:
    """An event's step: its reporter, the staff of the level it reached, its departments, its grid worker."""
    if action == EventAction.AUTO_ESCALATE:
        return  # the sweep escalates many at once: told per sweep (on_sla_swept), not per event
    actor_id = _actor_id(actor)
    if event.reporter_id != actor_id and _reported_by_resident(event):
        kind = REPORTER_KINDS.get(action)
        if kind == K.REPORT_ESCALATED:
            notifications.tell(kind, events=[[event.id, event.level]])
        elif kind is not None:
            notifications.tell(kind, event_id=event.id)
        elif action in REPLY_STEPS:
            step_id = _last_step(EventStep, "event_id", event.id)
            if db.session.scalar(select(EventStep.note).where(EventStep.id == step_id)):
                notifications.tell(K.REPORT_REPLIED, event_id=event.id, step_id=step_id)
    # the level it reached, as it was then; "not fixed" (its reporter) puts it back before its handler
    if action in (EventAction.REPORT, EventAction.ESCALATE, EventAction.NOT_FIXED):
        notifications.tell(K.EVENT_QUEUE, events=[[event.id, event.level]], actor_id=actor_id)
    elif action == EventAction.RESOLVE:  # waits for its grid worker's check on the spot (验收)
        notifications.tell(
            K.EVENT_QUEUE, events=[[event.id, EventLevel.GRID]], actor_id=actor_id, verify=True
        )
    elif action == EventAction.DISPATCH:
        notifications.tell(K.DISPATCH_QUEUE, step_id=_last_step(EventStep, "event_id", event.id))
    elif action == EventAction.VERIFY:
        _callback_task(CallbackSubject.EVENT, event.id)


def on_sla_swept(_sender=None, supervision_ids=(), escalated_ids=(), **_kwargs) -> None:
    """A sweep's new supervisions and escalations: told in lists (the sweep is set-based), not one job each."""
    supervision_ids, escalated_ids = list(supervision_ids), list(escalated_ids)
    for start in range(0, len(supervision_ids), IDS_PER_JOB):
        notifications.tell(K.SUPERVISION, supervision_ids=supervision_ids[start : start + IDS_PER_JOB])
    for start in range(0, len(escalated_ids), IDS_PER_JOB):
        chunk = escalated_ids[start : start + IDS_PER_JOB]
        reached = [
            list(row) for row in db.session.execute(select(Event.id, Event.level).where(Event.id.in_(chunk)))
        ]
        notifications.tell(K.EVENT_QUEUE, events=reached)
        notifications.tell(K.REPORT_ESCALATED, events=reached)


# --- members ---------------------------------------------------------------------------------------
def on_certificate_issued(certificate, **_kwargs) -> None:
    """A certificate's PDF is stored: its holder may download it. An honour batch's holders are told together
    when its last certificate is stored (its progress was recounted just before), not one job per certificate."""
    if certificate.batch_id is None:
        notifications.tell(K.CERTIFICATE_READY, certificate_id=certificate.id)
        return
    batch = db.session.get(HonourBatch, certificate.batch_id)
    if batch is not None and batch.done >= batch.total:
        notifications.tell(K.CERTIFICATE_READY, batch_id=batch.id)
