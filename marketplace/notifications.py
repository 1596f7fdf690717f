"""The notification inbox on the phone: the list, opening one (read, then its link), all read, preferences."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.ids import parse_page
from app.models.choices import NOTIFICATION_KIND_LABELS, URGENT, NotificationKind
from app.services import notification_preferences, notifications
from app.services.errors import DomainError, Invalid
from app.services.wish_intake import active_categories
from marketplace.blueprint import bp
from marketplace.forms import SiteForm
from marketplace.navigation import safe_target

PER_PAGE = 20


@bp.app_context_processor
def inject_unread_count():
    """The header's badge: a function, so only pages of logged-in users count (the cached board never)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return notifications.unread_count(current_user)
        except SQLAlchemyError:  # an error page after a failed statement still renders (without the count)
            return 0

    return {"unread_notifications": unread_notifications}


@bp.get("/my/notifications")
@login_required
def my_notifications():
    """The user's notifications, newest first, unread ones highlighted; `?unread=1` shows only those."""
    page = parse_page(request.args.get("page"))
    if page is None:
        abort(404)
    unread_only = request.args.get("unread") == "1"
    user = current_user._get_current_object()
    inbox = notifications.inbox(user, unread_only=unread_only, page=page, per_page=PER_PAGE)
    if page > 1 and not inbox["items"]:
        abort(404)
    return render_template(
        "marketplace/my_notifications.html",
        inbox=inbox,
        unread_only=unread_only,
        unread=notifications.unread_count(user),
        labels=NOTIFICATION_KIND_LABELS,
        form=SiteForm(),
    )


@bp.post("/my/notifications/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int):
    """Mark one notification read and follow its link (back to the list when it has none)."""
    if not SiteForm().validate_on_submit():
        abort(400)
    try:
        notification = notifications.mark_read(current_user._get_current_object(), notification_id)
        link = notification.link
        db.session.commit()
    except DomainError:
        db.session.rollback()
        abort(404)
    return redirect(safe_target(link) or url_for("marketplace.my_notifications"), 303)


@bp.post("/my/notifications/read-all")
@login_required
def read_all_notifications():
    """Mark every notification of the user read."""
    if not SiteForm().validate_on_submit():
        abort(400)
    count = notifications.mark_all_read(current_user._get_current_object())
    db.session.commit()
    flash(_("%(count)d notification(s) marked read.", count=count), "success")
    return redirect(url_for("marketplace.my_notifications"), 303)


@bp.route("/my/notifications/settings", methods=["GET", "POST"])
@login_required
def notification_settings():
    """Which kinds to receive, which wish categories to hear of, and the quiet hours."""
    user = current_user._get_current_object()
    shown = notification_preferences.kinds_for(user)
    categories = active_categories() if NotificationKind.NEW_WISH in shown else []
    form = SiteForm()
    stored = notification_preferences.preferences(user)
    errors = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        wanted = set(request.form.getlist("kind"))
        offered = {str(kind) for kind in shown if kind not in URGENT}
        kept = [k for k in stored.muted_kinds or [] if k not in offered]  # kinds this page does not show
        listed = {str(c.id) for c in categories}
        kept_categories = [c for c in stored.muted_categories or [] if str(c) not in listed]
        chosen = set(request.form.getlist("category"))
        try:
            notification_preferences.save_preferences(
                user,
                muted_kinds=kept + sorted(offered - wanted),
                muted_categories=kept_categories + sorted(listed - chosen),
                quiet_start=request.form.get("quiet_start"),
                quiet_end=request.form.get("quiet_end"),
            )
            db.session.commit()
        except Invalid as error:
            db.session.rollback()
            errors = error.errors
        else:
            flash(_("Notification settings saved."), "success")
            return redirect(url_for("marketplace.notification_settings"), 303)
        stored = notification_preferences.preferences(user)
    muted = set(stored.muted_kinds or [])
    muted_categories = {str(c) for c in stored.muted_categories or []}
    return render_template(
        "marketplace/notification_settings.html",
        form=form,
        kinds=[(kind, NOTIFICATION_KIND_LABELS[kind], kind in URGENT, kind not in muted) for kind in shown],
        categories=[(c, str(c.id) not in muted_categories) for c in categories],
        quiet_start=request.form.get("quiet_start", stored.quiet_start) if errors else stored.quiet_start,
        quiet_end=request.form.get("quiet_end", stored.quiet_end) if errors else stored.quiet_end,
        errors=errors,
    ), (422 if errors else 200)
