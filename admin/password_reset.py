"""Staff give a resident who forgot their password a new one, from the resident's page in the back office
(app.services.users.reset_password: allowed, random, audited); the password is shown to staff once."""

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.security import forbid_storing
from app.services.errors import DomainError
from app.services.users import reset_password


class PasswordResetMixin:
    """A POST action on a record with a `user` (a resident): a new password for that account."""

    @expose("/reset-password/", methods=["POST"])
    def reset_password_view(self):
        model = self.get_one(get_mdict_item_or_list(request.form, "id") or "")
        if model is None:
            abort(404)
        back = self.get_url(".details_view", id=model.id)
        if model.user is None:
            flash(_("This resident has no account to reset."), "error")
            return redirect(back, 303)
        try:
            password = reset_password(current_user._get_current_object(), model.user)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(back, 303)
        db.session.commit()
        forbid_storing()  # the new password must not stay in a browser's or a proxy's cache
        return self.render(
            "admin/password_reset.html", model=model, account=model.user, password=password, return_url=back
        )
