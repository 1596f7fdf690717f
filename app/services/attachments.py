"""Photos attached to a 随手拍 report, a wish, or a step of either (a resolve's "after" photo, a member's evidence).

Attaching: the uploads are checked and re-encoded first (app.services.images), all of them, so a refused one leaves
nothing written — no row, no file; then each photo and its thumbnail go to storage (app.services.storage) and an
`attachment` row records them, audited. At most MAX_PER_SUBJECT per subject.

Who sees a photo follows who sees its subject: a wish's photos are public once the wish is (published and after),
before that its owner, its poster and the staff in scope; a report's photos its reporter, the staff in scope and
the departments it was dispatched to; a step's photos the staff (and departments) who see the event — and the
reporter for a resolve step's "after" photo; a wish step's (evidence) the people involved and the staff in scope.
"""

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models.choices import (
    OPEN_EVENT_STATUSES,
    PUBLIC_WISH_STATUSES,
    STAFF_ROLES,
    EventAction,
    Role,
    WishStatus,
)
from app.models.events import Event, EventStep
from app.models.files import Attachment, AttachmentSubject
from app.models.wishes import Wish, WishStep
from app.services import audit, event_access, images, storage, wish_access
from app.services.errors import DomainError, Forbidden, NotFound

MAX_PER_SUBJECT = 9
WISH_OPEN_FOR_PHOTOS = (WishStatus.SUBMITTED, WishStatus.REJECTED, WishStatus.PUBLISHED, WishStatus.CLAIMED)


class PhotoLimit(DomainError):
    """More photos than a subject may carry: 422."""

    status = 422
    code = "too_many_photos"


@dataclass(frozen=True)
class Subject:
    """What photos are attached to: an event or a wish, or one step of either."""

    kind: AttachmentSubject
    event: Event | None = None
    wish: Wish | None = None
    step: EventStep | WishStep | None = None

    @classmethod
    def of_event(cls, event: Event, step: EventStep | None = None) -> "Subject":
        kind = AttachmentSubject.EVENT if step is None else AttachmentSubject.EVENT_STEP
        return cls(kind, event=event, step=step)

    @classmethod
    def of_wish(cls, wish: Wish, step: WishStep | None = None) -> "Subject":
        kind = AttachmentSubject.WISH if step is None else AttachmentSubject.WISH_STEP
        return cls(kind, wish=wish, step=step)

    def columns(self) -> dict:
        step_id = self.step.id if self.step is not None else None
        return {
            "subject_kind": self.kind.value,
            "event_id": self.event.id if self.event is not None else None,
            "wish_id": self.wish.id if self.wish is not None else None,
            "event_step_id": step_id if self.kind == AttachmentSubject.EVENT_STEP else None,
            "wish_step_id": step_id if self.kind == AttachmentSubject.WISH_STEP else None,
        }

    def condition(self):
        """SQL: the attachments of exactly this subject."""
        if self.kind == AttachmentSubject.EVENT_STEP:
            return Attachment.event_step_id == self.step.id
        if self.kind == AttachmentSubject.WISH_STEP:
            return Attachment.wish_step_id == self.step.id
        if self.kind == AttachmentSubject.EVENT:
            return (Attachment.subject_kind == self.kind.value) & (Attachment.event_id == self.event.id)
        return (Attachment.subject_kind == self.kind.value) & (Attachment.wish_id == self.wish.id)


# --- who may attach ------------------------------------------------------------------------------------------
def _staff_for_event(user, event: Event) -> bool:
    return event_access.refusal(user, event, "staff") is None


def refusal(user, subject: Subject) -> str | None:
    """Why `user` may not attach photos to `subject` now; None when they may."""
    if subject.kind == AttachmentSubject.EVENT:
        event = subject.event
        if _staff_for_event(user, event):
            return None
        if event.reporter_id == user.id and event.status in OPEN_EVENT_STATUSES:
            return None
        if event.reporter_id == user.id:
            return _("Photos can be added to a report only while it is being handled.")
        return _("Only the reporter and the staff responsible for this event's grid may add photos.")
    if subject.kind == AttachmentSubject.EVENT_STEP:
        if _staff_for_event(user, subject.event) or subject.step.actor_id == user.id:
            return None
        return _("Only the staff responsible for this event's grid may add photos to its steps.")
    wish = subject.wish
    if subject.kind == AttachmentSubject.WISH_STEP:
        if wish_access.is_staff_for(user, wish) or subject.step.actor_id == user.id:
            return None
        return _("Only the member who took this step may add photos to it.")
    if wish_access.is_staff_for(user, wish):
        return None
    if user.id in (wish.owner_id, wish.posted_by_id):
        if wish.status in WISH_OPEN_FOR_PHOTOS:
            return None
        return _("Photos can no longer be added to this wish.")
    return _("Only the resident who posted this wish may add photos to it.")


# --- attaching ------------------------------------------------------------------------------------------------
def prepare_all(uploads: list[bytes]) -> list[images.Photo]:
    """Every upload checked and re-encoded, or the first refusal (nothing is written by this)."""
    if len(uploads) > MAX_PER_SUBJECT:
        raise _too_many(0)
    return [images.prepare(data) for data in uploads]


def _too_many(already: int) -> PhotoLimit:
    return PhotoLimit(
        _(
            "At most %(n)d photos may be attached here (%(already)d already).",
            n=MAX_PER_SUBJECT,
            already=already,
        )
    )


def _lock_subject(subject: Subject) -> None:
    """Serialise attachments to one subject (PostgreSQL), so two uploads cannot both pass the count."""
    model, row_id = (Event, subject.event.id) if subject.event is not None else (Wish, subject.wish.id)
    db.session.execute(select(model.id).where(model.id == row_id).with_for_update())


def count_for(subject: Subject) -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment).where(subject.condition())) or 0


def store(actor, subject: Subject, photos: list[images.Photo]) -> list[Attachment]:
    """Keep prepared photos for `subject`; their rows, audited, in the caller's transaction (with
    STORAGE=database the bytes commit with them). Forbidden or PhotoLimit before anything is written."""
    if not photos:
        return []
    reason = refusal(actor, subject)
    if reason is not None:
        raise Forbidden(reason)
    _lock_subject(subject)
    already = count_for(subject)
    if already + len(photos) > MAX_PER_SUBJECT:
        raise _too_many(already)
    subject_id = (subject.step or subject.event or subject.wish).id
    folder = f"attachments/{subject.kind.value}/{subject_id}"
    rows = []
    for photo in photos:
        token = secrets.token_hex(12)
        row = Attachment(
            **subject.columns(),
            uploader_id=actor.id,
            image_key=f"{folder}/{token}{photo.extension}",
            thumbnail_key=f"{folder}/{token}.thumb.jpg",
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=len(photo.data),
        )
        storage.put(row.image_key, photo.data, photo.content_type)
        storage.put(row.thumbnail_key, photo.thumbnail, "image/jpeg")
        db.session.add(row)
        db.session.flush()
        audit.record(actor, "create", row, None, audit.snapshot(row))
        rows.append(row)
    return rows


def attach(actor, subject: Subject, uploads: list[bytes]) -> list[Attachment]:
    """Check, re-encode and keep `uploads` for `subject`; Forbidden, PhotoLimit or images.PhotoRefused otherwise."""
    reason = refusal(actor, subject)
    if reason is not None:
        raise Forbidden(reason)
    return store(actor, subject, prepare_all(uploads))


def latest_step(record: Event | Wish, action: str | None, actor) -> EventStep | WishStep | None:
    """The step `actor` just took on `record` (of `action`, or any): to attach its photos (a resolve's "after",
    a member's evidence)."""
    model, column = (
        (EventStep, EventStep.event_id) if isinstance(record, Event) else (WishStep, WishStep.wish_id)
    )
    db.session.flush()
    query = select(model).where(column == record.id, model.actor_id == actor.id)
    if action is not None:
        query = query.where(model.action == action)
    return db.session.scalar(query.order_by(model.id.desc()).limit(1))


# --- who sees them ------------------------------------------------------------------------------------------
def is_public(attachment: Attachment) -> bool:
    """A wish's own photos once the wish is on the public board (or beyond); nothing else is."""
    return (
        attachment.subject_kind == AttachmentSubject.WISH and attachment.wish.status in PUBLIC_WISH_STATUSES
    )


def _logged_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def may_see(user, attachment: Attachment) -> bool:
    if is_public(attachment):
        return True
    if not _logged_in(user):
        return False
    kind = attachment.subject_kind
    if kind in (AttachmentSubject.EVENT, AttachmentSubject.EVENT_STEP):
        if event_access.get_visible_event(user, attachment.event_id) is None:
            return False
        if kind == AttachmentSubject.EVENT:
            return True
        if user.role in STAFF_ROLES or user.role == Role.DEPARTMENT:
            return True
        return attachment.event_step.action == EventAction.RESOLVE  # the reporter sees the "after" photo
    wish = wish_access.get_visible_wish(user, attachment.wish_id)
    if wish is None:
        return False
    return kind == AttachmentSubject.WISH or wish_access.can_see_notes(user, wish)


def get_visible(user, attachment_id) -> Attachment:
    """The attachment when `user` may see it; NotFound (the same answer as for none at all) otherwise."""
    attachment = db.session.get(Attachment, attachment_id) if isinstance(attachment_id, int) else None
    if attachment is None or not may_see(user, attachment):
        raise NotFound(_("Not found."))
    return attachment


def listed(subject: Subject) -> list[Attachment]:
    """The photos of `subject`, oldest first (their rows only: no bytes are read)."""
    return list(db.session.scalars(select(Attachment).where(subject.condition()).order_by(Attachment.id)))


def of_wish(user, wish: Wish) -> tuple[list[Attachment], dict[int, list[Attachment]]]:
    """The photos of `wish` itself (as `listed`), and those of its steps `user` may see, by step id (as
    `of_steps`): from `Wish.attachments`, one query for both, none when the wish was loaded with them."""
    own, by_step = [], {}
    for row in wish.attachments:
        if row.subject_kind == AttachmentSubject.WISH:
            own.append(row)
        elif may_see(user, row):
            by_step.setdefault(row.wish_step_id, []).append(row)
    return own, by_step


def of_steps(user, steps) -> dict[int, list[Attachment]]:
    """The photos of each of `steps` (event or wish steps) that `user` may see, by step id."""
    steps = list(steps)
    if not steps:
        return {}
    column = Attachment.event_step_id if isinstance(steps[0], EventStep) else Attachment.wish_step_id
    rows = db.session.scalars(
        select(Attachment).where(column.in_([s.id for s in steps])).order_by(Attachment.id)
    ).all()
    by_step: dict[int, list[Attachment]] = {}
    for row in rows:
        if may_see(user, row):
            by_step.setdefault(getattr(row, column.key), []).append(row)
    return by_step


def file_of(attachment: Attachment, thumbnail: bool = False) -> tuple[str, str]:
    """The storage key and content type of the photo, or of its thumbnail."""
    if thumbnail:
        return attachment.thumbnail_key, "image/jpeg"
    return attachment.image_key, attachment.content_type


def cache_control(attachment: Attachment) -> str:
    """Shared caches may keep a public wish's photo a little while (it may be withdrawn); nothing else."""
    return "public, max-age=300" if is_public(attachment) else "private, no-store"
