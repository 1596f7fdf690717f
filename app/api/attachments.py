"""Photos over the API: attach one to an event or a wish (multipart, field `file`), read a photo or its thumbnail.

The rules (types, sizes, metadata stripped, who may attach, who may see) are app.services.attachments'.
"""

import marshmallow as ma
from flask import url_for
from flask_smorest.fields import Upload

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import abort_for, commit_or_abort, load_visible_or_404
from app.api.idempotency import idempotent
from app.models import Event, Wish
from app.models.files import Attachment
from app.services import attachments, event_access, storage, wish_access
from app.services.errors import DomainError

bp = api_blueprint(
    "attachments",
    __name__,
    "Photos (随手拍, wishes): JPEG, PNG or WebP, re-encoded without EXIF (no GPS), at most 9 per subject.",
)
# the endpoints taking a file: their bodies may be as large as ATTACHMENT_MAX_BYTES (app/api/__init__.py)
UPLOAD_ENDPOINTS = ("attachments.upload_event_attachment", "attachments.upload_wish_attachment")


class UploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "the photo: JPEG, PNG or WebP"})


class AttachmentSchema(ma.Schema):
    """A photo: GET `url` (the image, long side at most ATTACHMENT_MAX_PIXELS_SIDE) or `thumbnail_url` (JPEG)."""

    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    thumbnail_url = ma.fields.String(required=True)
    content_type = ma.fields.String(
        required=True, metadata={"enum": ["image/jpeg", "image/png", "image/webp"]}
    )
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)


def present(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "url": url_for("attachments.attachment_image", attachment_id=attachment.id),
        "thumbnail_url": url_for("attachments.attachment_thumbnail", attachment_id=attachment.id),
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
    }


def present_all(rows) -> list[dict]:
    return [present(row) for row in rows]


def _attach(subject: attachments.Subject, upload) -> dict:
    user = current_api_user()
    data = upload.read()
    rows = commit_or_abort(lambda: attachments.attach(user, subject, [data]))
    return present(rows[0])


@bp.route("/events/<int:event_id>/attachments", methods=["POST"])
@token_required()
@bp.arguments(UploadSchema, location="files")
@idempotent(bp)
@bp.response(201, AttachmentSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(413, description="the photo is larger than ATTACHMENT_MAX_BYTES")
@bp.alt_response(415, description="not a JPEG, PNG or WebP photo (HEIC included)")
def upload_event_attachment(files, event_id):
    """Attach a photo to an event: its reporter while it is handled, or the staff responsible for its grid."""
    event = load_visible_or_404(Event, event_id, event_access.visible_condition(current_api_user()))
    return _attach(attachments.Subject.of_event(event), files["file"])


@bp.route("/wishes/<int:wish_id>/attachments", methods=["POST"])
@token_required()
@bp.arguments(UploadSchema, location="files")
@idempotent(bp)
@bp.response(201, AttachmentSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(413, description="the photo is larger than ATTACHMENT_MAX_BYTES")
@bp.alt_response(415, description="not a JPEG, PNG or WebP photo (HEIC included)")
def upload_wish_attachment(files, wish_id):
    """Attach a photo to a wish: its owner until it is done, or the staff responsible for its grid."""
    wish = load_visible_or_404(Wish, wish_id, wish_access.visible_condition(current_api_user()))
    return _attach(attachments.Subject.of_wish(wish), files["file"])


def _serve(attachment_id: int, thumbnail: bool):
    try:
        attachment = attachments.get_visible(current_api_user(), attachment_id)
    except DomainError as error:
        abort_for(error)
    key, content_type = attachments.file_of(attachment, thumbnail)
    return storage.response(key, content_type, cache=attachments.cache_control(attachment))


@bp.route("/attachments/<int:attachment_id>")
@token_required()
@bp.response(200, description="the photo", content_type="image/jpeg")
@bp.alt_response(404, response="NOT_FOUND")
def attachment_image(attachment_id):
    """The photo, to those who may see its subject (404 to anyone else)."""
    return _serve(attachment_id, thumbnail=False)


@bp.route("/attachments/<int:attachment_id>/thumbnail")
@token_required()
@bp.response(200, description="the thumbnail (JPEG)", content_type="image/jpeg")
@bp.alt_response(404, response="NOT_FOUND")
def attachment_thumbnail(attachment_id):
    """The photo's thumbnail, on the same terms as the photo."""
    return _serve(attachment_id, thumbnail=True)
