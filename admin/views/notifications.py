"""The back office's notification inbox: the user's own notifications (the header shows the unread count)."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from admin.base import AccessMixin
from app.extensions import db
from app.ids import parse_page
from app.models.choices import BACK_OFFICE_ROLES, NOTIFICATION_KIND_LABELS
from app.services import notifications
from app.services.errors import DomainError
from marketplace.navigation import safe_target

PER_PAGE = 30


class NotificationsView(AccessMixin, BaseView):
    """The user's notifications, newest first; opening one marks it read and follows its link."""

    view_roles = BACK_OFFICE_ROLES

    @expose("/", methods=["GET", "POST"])
    def index(self):
        """The list; a POST to it marks every notification read."""
        if request.method == "POST":
            count = notifications.mark_all_read(current_user._get_current_object())
            db.session.commit()
            flash(_("%(count)d notification(s) marked read.", count=count), "success")
            return redirect(url_for(".index"), 303)
        page = parse_page(request.args.get("page"))
        if page is None:
            abort(404)
        unread_only = request.args.get("unread") == "1"
        user = current_user._get_current_object()
        inbox = notifications.inbox(user, unread_only=unread_only, page=page, per_page=PER_PAGE)
        if page > 1 and not inbox["items"]:
            abort(404)
        return self.render(
            "admin/notifications.html",
            inbox=inbox,
            unread_only=unread_only,
            unread=notifications.unread_count(user),
            labels=NOTIFICATION_KIND_LABELS,
        )

    @expose("/open", methods=["POST"])
    def open(self):
        """Mark one of the user's notifications (form field `id`) read and follow its link; anyone else's: 404."""
        try:
            notification = notifications.mark_read(current_user._get_current_object(), request.form.get("id"))
            link = notification.link
            db.session.commit()
        except DomainError:
            db.session.rollback()
            abort(404)
        return redirect(safe_target(link) or url_for(".index"), 303)
