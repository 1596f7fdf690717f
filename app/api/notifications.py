"""The caller's notifications over the API: the inbox (newest first, paged), marking read, the preferences."""

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.common import CHOOSE_ONE, Text, UtcDateTime, commit_or_abort
from app.api.idempotency import idempotent
from app.api.pagination import PageQuerySchema, PageSchema, paginate
from app.ids import MAX_ID
from app.models.choices import URGENT, NotificationKind
from app.services import notification_preferences, notifications

bp = api_blueprint("notifications", __name__, "The caller's notification inbox and notification preferences.")

TIME = ma.validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error=_l("Give a time as HH:MM (00:00 to 23:59)."))


# --- shapes --------------------------------------------------------------------------------------
class NotificationSchema(ma.Schema):
    """One notification of the caller."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [k.value for k in NotificationKind]})
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    link = ma.fields.String(allow_none=True, metadata={"description": "a path on the site: /wishes/12"})
    urgent = ma.fields.Boolean(required=True, metadata={"description": "a call-up: never muted"})
    subject = ma.fields.String(allow_none=True, metadata={"description": "what it is about: wish:12"})
    created_at = UtcDateTime(required=True)
    read_at = UtcDateTime(allow_none=True, metadata={"description": "null: unread"})


class NotificationPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True)
    unread = ma.fields.Integer(required=True, metadata={"description": "the caller's unread count"})


class InboxQuerySchema(PageQuerySchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "1: unread ones only"})


class ReadAllSchema(ma.Schema):
    marked = ma.fields.Integer(required=True, metadata={"description": "how many were unread"})
    unread = ma.fields.Integer(required=True)


class PreferencesRequestSchema(ma.Schema):
    """What the caller does not want to be told; omitted fields are cleared (PUT replaces)."""

    muted_kinds = ma.fields.List(
        Text(
            validate=ma.validate.OneOf(
                [k.value for k in NotificationKind if k not in URGENT], error=CHOOSE_ONE
            )
        ),
        load_default=list,
        validate=ma.validate.Length(max=len(NotificationKind)),
        metadata={"description": "kinds not to receive (call-ups cannot be muted)"},
    )
    muted_categories = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID)),
        load_default=list,
        validate=ma.validate.Length(max=200),
        metadata={"description": "wish category ids whose new wishes (new_wish) not to hear of"},
    )
    quiet_start = Text(allow_none=True, load_default=None, validate=TIME)
    quiet_end = Text(
        allow_none=True,
        load_default=None,
        validate=TIME,
        metadata={
            "description": "quiet hours (district time): the SMS/WeChat gateway waits; the inbox does not"
        },
    )


class PreferencesSchema(ma.Schema):
    muted_kinds = ma.fields.List(ma.fields.String(), required=True)
    muted_categories = ma.fields.List(ma.fields.Integer(), required=True)
    quiet_start = ma.fields.String(allow_none=True)
    quiet_end = ma.fields.String(allow_none=True)
    kinds = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "the kinds the caller's role receives"}
    )
    urgent = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "always on"})


# --- endpoints -----------------------------------------------------------------------------------
def _body(n) -> dict:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "urgent": n.urgent,
        "subject": n.subject,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


def _preferences_body(user) -> dict:
    stored = notification_preferences.preferences(user)
    return {
        "muted_kinds": list(stored.muted_kinds or []),
        "muted_categories": list(stored.muted_categories or []),
        "quiet_start": stored.quiet_start,
        "quiet_end": stored.quiet_end,
        "kinds": [str(k) for k in notification_preferences.kinds_for(user)],
        "urgent": sorted(str(k) for k in URGENT),
    }


@bp.route("/notifications")
@token_required()
@bp.arguments(InboxQuerySchema, location="query")
@bp.response(200, NotificationPageSchema)
def list_notifications(query):
    """The caller's notifications, newest first (`?unread=1`: the unread ones), with the unread count."""
    user = current_api_user()
    page = paginate(notifications.inbox_query(user, unread_only=query["unread"]), query)
    page["items"] = [_body(n) for n in page["items"]]
    page["unread"] = notifications.unread_count(user)
    return page


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@token_required()
@idempotent(bp)
@bp.response(200, NotificationSchema)
@bp.alt_response(404, response="NOT_FOUND")
def read_notification(notification_id: int):
    """Mark one of the caller's notifications read (again: no change); anyone else's: 404."""
    user = current_api_user()
    return _body(commit_or_abort(lambda: notifications.mark_read(user, notification_id)))


@bp.route("/notifications/read-all", methods=["POST"])
@token_required()
@idempotent(bp)
@bp.response(200, ReadAllSchema)
def read_all_notifications():
    """Mark every notification of the caller read."""
    user = current_api_user()
    marked = commit_or_abort(lambda: notifications.mark_all_read(user))
    return {"marked": marked, "unread": notifications.unread_count(user)}


@bp.route("/notifications/preferences")
@token_required()
@bp.response(200, PreferencesSchema)
def get_preferences():
    """What the caller has muted, and their quiet hours."""
    return _preferences_body(current_api_user())


@bp.route("/notifications/preferences", methods=["PUT"])
@token_required()
@bp.arguments(PreferencesRequestSchema)
@bp.response(200, PreferencesSchema)
def put_preferences(values):
    """Replace the caller's preferences (422 for an unknown kind or category, or half a quiet period)."""
    user = current_api_user()
    commit_or_abort(lambda: notification_preferences.save_preferences(user, **values))
    return _preferences_body(user)
