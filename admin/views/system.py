"""Users and the audit log."""

from functools import partial

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import Select2Field
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import StopValidation, ValidationError

from admin.audit_display import RECORD_NAMES, changes_html, changes_text, record_html, record_name
from admin.base import ADMIN_ONLY, MANAGERS, OneGridModelView
from admin.scoping import area_filters
from app.extensions import db
from app.models import AuditLog, User
from app.models.choices import ROLE_LABELS, choices
from app.services.users import UserError, check_role_binding, deactivate, ensure_profile, set_password


def role_chosen(form, field):
    """The role's empty choice left as it is: refused (the message a str: the form shows no lazy ones)."""
    if not field.data:
        raise StopValidation(_("Choose the user's role."))


class UserAdmin(OneGridModelView):
    """Accounts: admins create them, pick role and scope, set passwords (stored as scrypt hashes) and deactivate
    them; a new password or a deactivation ends the user's sessions and API tokens (app/services/users.py)."""

    view_roles = ADMIN_ONLY
    edit_roles = ADMIN_ONLY
    column_list = ("username", "name", "role", "area", "department", "active", "last_login_at")
    column_searchable_list = ("username", "name")
    column_sortable_list = ("username", "role", "area_code", "last_login_at")
    column_choices = {"role": choices(ROLE_LABELS)}
    form_overrides = {
        # no role preset (an administrator by accident): an empty choice that must be picked
        "role": partial(Select2Field, choices=choices(ROLE_LABELS), allow_blank=True),
        "locale": partial(Select2Field, choices=[("zh_Hans_CN", "简体中文"), ("en", "English")]),
    }
    form_args = {
        "role": {"validators": [role_chosen]},
        "locale": {"default": "zh_Hans_CN"},  # the UI is Simplified Chinese by default
    }
    form_columns = ("username", "name", "role", "area", "department", "active", "locale", "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            _l("New password"),
            description=_l("At least 8 characters. Leave empty to keep the current password."),
        )
    }
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(User.role, _l("Role"), options=choices(ROLE_LABELS))
        ] + area_filters(User.area_code)
        super().__init__(*args, **kwargs)

    def before_save(self, form, model, is_created):
        try:
            check_role_binding(model.role, model.area, model.department)
            if form.new_password.data:
                # ends the user's sessions and tokens; an admin changing their own keeps the session in use
                set_password(model, form.new_password.data, keep_session=current_user.login_session_key)
            elif is_created:
                raise UserError(_l("A new user needs a password."))
            if not model.active and not is_created:
                deactivate(model)
        except UserError as exc:
            field = getattr(form, exc.field or "", None)
            if field is not None:
                field.errors = [*field.errors, exc.message]  # shown next to the field too
            raise ValidationError(str(exc)) from exc

    def after_model_change(self, form, model, is_created):
        ensure_profile(model)
        db.session.commit()


def record_types():
    return sorted(((name, str(label)) for name, label in RECORD_NAMES.items()), key=lambda pair: pair[1])


class AuditLogAdmin(OneGridModelView):
    """Read-only: who changed, revealed, imported or exported what, when, before and after."""

    view_roles = MANAGERS
    can_create = False
    can_edit = False
    can_delete = False
    # the record by its Chinese name, linked to its page; before/after as "field: before → after" lines
    column_list = ("at", "username", "channel", "action", "model", "area_code", "changes")
    column_details_list = ("at", "username", "channel", "ip", "action", "model", "area_code", "changes")
    column_export_list = (
        "at",
        "username",
        "channel",
        "ip",
        "action",
        "model",
        "object_id",
        "area_code",
        "changes",
    )
    column_labels = {**OneGridModelView.column_labels, "changes": _l("Changes"), "area_code": _l("Area code")}
    column_formatters = {
        "model": lambda v, c, m, n: record_html(m),
        "changes": lambda v, c, m, n: changes_html(m),
    }
    column_formatters_export = {
        "model": lambda v, c, m, n: record_name(m.model),
        "changes": lambda v, c, m, n: changes_text(m),
    }
    column_searchable_list = ("username", "model", "object_id")
    column_sortable_list = ("at", "username", "action", "model")
    column_default_sort = ("at", True)
    column_choices = {
        "action": [
            ("create", _l("Create")),
            ("update", _l("Update")),
            ("delete", _l("Delete")),
            ("reveal", _l("Reveal")),
            ("import", _l("Import")),
            ("export", _l("Export")),
        ],
        "channel": [
            ("admin", _l("Through the back office")),
            ("site", _l("Through the site")),
            ("api", _l("Through the API")),
            ("job", _l("Through a job")),
            ("cli", _l("Through the command line")),
        ],
    }

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            FilterEqual(AuditLog.action, _l("Action"), options=self.column_choices["action"]),
            FilterEqual(AuditLog.channel, _l("Channel"), options=self.column_choices["channel"]),
            FilterEqual(AuditLog.model, _l("Record type"), options=record_types),
        ] + area_filters(AuditLog.area_code)
        super().__init__(*args, **kwargs)
