"""The base of every back-office view: access by role, scoping, masking and the audit log."""

from collections import OrderedDict

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import StringField
from wtforms.validators import StopValidation, ValidationError

from admin.display import DETAIL_FORMATTERS, EXPORT_FORMATTERS, LIST_FORMATTERS
from admin.exports import ExportMixin
from admin.fields import BoundedModelConverter
from admin.labels import LABELS
from admin.scoping import AreaFilter, filter_accepts, scope_form_choices
from app.extensions import db
from app.ids import MAX_PAGE, parse_id, parse_ids
from app.models.base import sync_foreign_keys
from app.models.choices import BACK_OFFICE_ROLES, STAFF_ROLES, Role
from app.security import forbid_storing
from app.services import audit
from app.services.errors import DomainError, Invalid
from app.services.masking import MASKERS
from app.services.scope import apply_scope, row_in_scope

ADMIN_ONLY = (Role.ADMIN,)
AREA_STAFF = STAFF_ROLES
MANAGERS = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN)
PEOPLE = {"User", "Resident", "TeamPerson", "Member"}  # models whose `name` is a person's (姓名, not 名称)


class AccessMixin:
    """Anonymous callers go to the login page; logged-in callers without the role get 403."""

    view_roles: tuple = AREA_STAFF

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.view_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("marketplace.login", next=request.full_path))
        abort(403)


class HomeView(AccessMixin, AdminIndexView):
    """The back-office home: what waits for the user, then the dashboard (治理分析图) of their scope."""

    view_roles = BACK_OFFICE_ROLES

    @expose("/")
    def index(self):
        from admin.dashboard import chart_spec, home_context, period_label
        from admin.queue import queue_items

        context = home_context(current_user, request.args)
        return self.render(
            "admin/home.html",
            queue=queue_items(current_user),
            chart_spec=chart_spec,
            period_label=period_label(context["period"]),
            **context,
        )


REFUSED = None  # what run_step answers when the service refused the step (the refusal is flashed)


def run_step(step) -> tuple[bool | None, dict]:
    """Run `step`, a transition through a service that commits; (True, {}) when it was taken,
    (False, field errors) when values did not pass, (REFUSED, {}) when it was refused — rolled back
    and the refusal flashed for the next page."""
    try:
        step()
    except Invalid as error:
        db.session.rollback()
        return False, error.errors
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return REFUSED, {}
    return True, {}


def form_refused(form, error: DomainError, fields: dict[str, str], default: str) -> bool:
    """A create or edit form whose save a service refused: rolled back, an Invalid's messages on the form's
    fields (`fields` maps the service's names to the form's; others go on `default`), the refusal flashed.
    False: Flask-Admin's "not saved", which shows the form again."""
    db.session.rollback()
    for key, message in getattr(error, "errors", {}).items():
        form[fields.get(key, default)].errors.append(message)
    flash(admin_gettext("Failed to create record. %(error)s", error=error.message), "error")
    return False


class MaskedField(StringField):
    """A text field showing personal data masked; left untouched, the stored value is kept."""

    def __init__(self, *args, masker=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.masker = masker

    def _masked_original(self):
        return self.masker(self.object_data) if self.object_data else None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.masker(self.data) if self.data else ""

    @property
    def unchanged(self) -> bool:
        return bool(self.object_data) and self.data == self._masked_original()

    def pre_validate(self, form):
        if self.unchanged:
            raise StopValidation()

    def populate_obj(self, obj, name):
        if not self.unchanged:
            setattr(obj, name, self.data or None)


class OneGridModelView(AccessMixin, ExportMixin, ModelView):
    """A ModelView confined to the user's area, masking personal data and auditing every change."""

    edit_roles: tuple = MANAGERS
    column_labels = LABELS
    page_size = 20
    can_set_page_size = True
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    column_default_sort = ("id", True)
    details_modal = False
    edit_modal = False
    create_modal = False
    masked_columns: tuple = ()
    form_area_levels: dict = {}
    form_excluded_columns = ("created_at",)
    column_display_all_relations = False
    model_form_converter = BoundedModelConverter
    # every date and moment: the district's clock, to the minute (admin/display.py)
    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS

    def __init__(self, model, session=None, **kwargs):
        if model.__name__ in PEOPLE and self.column_labels.get("name") is LABELS["name"]:
            self.column_labels = {**self.column_labels, "name": _l("Full name")}  # a person's name: 姓名
        if self.masked_columns:
            formatters = {c: self._mask_formatter(c) for c in self.masked_columns}
            self.column_formatters = {**(self.column_formatters or {}), **formatters}
            self.column_formatters_export = {**(self.column_formatters_export or {}), **formatters}
            self.form_overrides = {
                **(self.form_overrides or {}),
                **{c: MaskedField for c in self.masked_columns},
            }
            self.form_args = dict(self.form_args or {})
            for column in self.masked_columns:
                self.form_args[column] = {**self.form_args.get(column, {}), "masker": MASKERS[column]}
        if self.eager_paths:
            self.column_auto_select_related = False
        area_columns = {"grid", "community", "area"} & set(self.column_list or ())
        if area_columns:
            short = {
                c: self._area_formatter(c) for c in area_columns if c not in (self.column_formatters or {})
            }
            self.column_formatters = {**(self.column_formatters or {}), **short}
            plain = {c: self._area_formatter(c, plain=True) for c in area_columns}
            self.column_formatters_export = {**(self.column_formatters_export or {}), **plain}
        super().__init__(model, session or db, **kwargs)

    @staticmethod
    def _area_formatter(column, plain: bool = False):
        def format_(view, context, model, name):
            area = getattr(model, column)
            if plain:
                return f"{area.short_name} ({area.code})" if area is not None else ""
            return (
                Markup('<span title="%s">%s</span>') % (area.code, area.short_name)
                if area is not None
                else ""
            )

        return format_

    @staticmethod
    def _mask_formatter(column):
        masker = MASKERS[column]
        return lambda view, context, model, name: masker(getattr(model, column))

    # --- what the user may do -------------------------------------------------
    @property
    def can_create(self):
        return current_user.is_authenticated and current_user.role in self.edit_roles

    @property
    def can_edit(self):
        return self.can_create

    @property
    def can_delete(self):
        return self.can_create

    # --- scoping ------------------------------------------------------------------
    # relationship paths a list shows ("grid.parent"), loaded by id with the page in a few small
    # queries instead of one per row, and instead of joins (which turn a scope's page into a scan)
    eager_paths: tuple = ()

    def get_query(self):
        query = apply_scope(super().get_query(), self.model, current_user)
        return query.options(*(self._eager(path) for path in self.eager_paths)) if self.eager_paths else query

    def _eager(self, path: str):
        model, option = self.model, None
        for name in path.split("."):
            attribute = getattr(model, name)
            option = selectinload(attribute) if option is None else option.selectinload(attribute)
            model = attribute.property.mapper.class_
        return option

    def get_count_query(self):
        return apply_scope(super().get_count_query(), self.model, current_user)

    def get_one(self, id):
        """The record `id` names when the user may see it, else 404: for text, 0, a number too big for the
        database (never a 500) and another area's row alike (details, edit, delete and every page of a view)."""
        obj = self.find_visible(parse_id(id))
        if obj is None:
            abort(404)
        return obj

    def find_visible(self, id: int | None):
        """The row with this id (None: no id) when the user may see it, else None; views whose rows are
        visible by a rule of their own override it."""
        obj = db.session.get(self.model, id) if id is not None else None
        return obj if obj is not None and row_in_scope(current_user, obj) else None

    def create_form(self, obj=None):
        return self._scoped(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scoped(super().edit_form(obj))

    def _scoped(self, form):
        scope_form_choices(form, self.form_area_levels)
        for field in form:  # an empty choice reads "— 请选择 —" (Select2 shows a blank one as "__None")
            if (
                getattr(field, "allow_blank", False)
                and not str(getattr(field, "blank_text", "") or "").strip()
            ):
                field.blank_text = _("— Choose —")
            if hasattr(field, "loader"):  # a searched choice (住户): not Flask-Admin's "请选择模型"
                field.render_kw = {"data-placeholder": _("— Choose —"), **(field.render_kw or {})}
        return form

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        if (
            not 0 <= view_args.page < MAX_PAGE
        ):  # (counted from 0) past any list, or an OFFSET the database refuses
            abort(404)
        return view_args

    def _get_list_filter_args(self):
        """The list's filters (`flt<position>_<key>=value`) as Flask-Admin reads them, keeping a value only
        when the filter accepts it (see `filter_accepts`); any other is dropped with Flask-Admin's message."""
        if not self._filters:
            return None
        filters = []
        for arg, value in request.args.items():
            position, _sep, key = arg[3:].partition("_")
            if not arg.startswith("flt") or key not in self._filter_args:
                continue
            index, flt = self._filter_args[key]
            if filter_accepts(self, flt, value):
                filters.append((position, (index, str(flt.name), value)))
            else:
                flash(self.get_invalid_value_msg(value, flt), "error")
        return [flt for _position, flt in sorted(filters, key=lambda f: f[0])]

    def _get_filter_groups(self):
        """Filter options computed per request (they depend on the user), empty area filters hidden."""
        if not self._filters:
            return None
        groups: OrderedDict = OrderedDict()
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self) or None
            if isinstance(flt, AreaFilter) and not options:
                continue
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": str(flt.operation()),
                    "options": [(str(k), str(v)) for k, v in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups

    # --- saving ---------------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        # history first: anything below may autoflush and erase it
        sync_foreign_keys(model)
        self.before_save(form, model, is_created)
        sync_foreign_keys(model)
        before, after = (None, None) if is_created else audit.changes(model)
        if not row_in_scope(current_user, model):
            raise ValidationError(_("You can only save records inside your own area."))
        if is_created:
            audit.record_created(current_user, model)
        else:
            audit.record_updated(current_user, model, before, after)

    def before_save(self, form, model, is_created):
        """Hook for views: derive columns (e.g. the grid from a building) before the scope check."""

    @action(
        "delete",
        admin_lazy_gettext("Delete"),
        admin_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        # row ids arrive as strings; PostgreSQL will not compare an integer key with text
        return super().action_delete(parse_ids(ids))

    def on_model_delete(self, model):
        audit.record_deleted(current_user, model)

    def handle_view_exception(self, exc):
        if isinstance(exc, DomainError):  # a service refused a generic save: its message, nothing kept
            db.session.rollback()
            flash(exc.message, "error")
            return True
        if isinstance(exc, IntegrityError):
            db.session.rollback()
            flash(
                _("Nothing was saved: the record is still used by other records, or it duplicates one."),
                "error",
            )
            return True
        return super().handle_view_exception(exc)

    def _get_list_value(self, *args, **kwargs):
        value = super()._get_list_value(*args, **kwargs)
        return "" if value is None else value  # an empty choice column shows blank, not "None"

    # --- extra context on the details page -----------------------------------------
    def details_extras(self, model) -> dict:
        """Related rows shown under a record's details (views override)."""
        return {}

    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs.update(self.details_extras(kwargs["model"]))
        return super().render(template, **kwargs)


class ReferenceView(OneGridModelView):
    """District-wide reference data: every back-office user reads it, only admins change it."""

    view_roles = BACK_OFFICE_ROLES
    edit_roles = ADMIN_ONLY


class RevealMixin:
    """An explicit, audited action that shows a record's masked personal data in full."""

    @expose("/reveal/", methods=["POST"])
    def reveal_view(self):
        model = self.get_one(get_mdict_item_or_list(request.form, "id") or "")
        values = {str(self.column_labels.get(c, c)): getattr(model, c) or "" for c in self.masked_columns}
        audit.record_reveal(current_user, model, self.masked_columns)
        db.session.commit()
        forbid_storing()  # the values in full must not stay in a browser's or a proxy's cache
        return self.render(
            "admin/reveal.html",
            model=model,
            values=values,
            return_url=self.get_url(".details_view", id=model.id),
        )
