"""Photos on the site: the files a form sent, and each photo or thumbnail served to those who may see it."""

from flask import abort, request
from flask_login import current_user

from app.services import attachments, storage
from app.services.errors import NotFound
from marketplace.blueprint import bp

FIELD = "photos"


def uploaded_photos(field: str = FIELD) -> list[bytes]:
    """The bytes of each file sent in `field` (file inputs left empty send a nameless, empty part: skipped)."""
    return [data for upload in request.files.getlist(field) if (data := upload.read())]


def _serve(attachment_id: int, thumbnail: bool):
    try:
        attachment = attachments.get_visible(current_user._get_current_object(), attachment_id)
    except NotFound:
        abort(404)
    key, content_type = attachments.file_of(attachment, thumbnail)
    return storage.response(key, content_type, cache=attachments.cache_control(attachment))


@bp.get("/photos/<int:attachment_id>")
def photo(attachment_id: int):
    """A photo, to those who may see its subject (a published wish's: anyone); 404 otherwise."""
    return _serve(attachment_id, thumbnail=False)


@bp.get("/photos/<int:attachment_id>/thumbnail")
def photo_thumbnail(attachment_id: int):
    return _serve(attachment_id, thumbnail=True)
