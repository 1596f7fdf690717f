"""Micro-wishes in the back office: categories, every wish in scope, the review queue and the transitions.

The lists' columns and filters are in admin.views.wish_columns.
"""

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.helpers import get_redirect_target
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from admin.base import AREA_STAFF, REFUSED, OneGridModelView, ReferenceView, form_refused, run_step
from admin.contact import CallMixin, call_allowed, release_counts
from admin.display import person, when
from admin.scoping import area_filters
from admin.views.wish_columns import (
    EXPORT_FORMATTERS,
    FORMATTERS,
    AssistedFilter,
    OverdueReviewFilter,
    ResidentLoader,
    category_filter,
    clamped_text,
    status_label,
)
from app.extensions import db
from app.ids import parse_id
from app.models import Area, Resident, Wish, WishCategory
from app.models.base import utcnow
from app.models.choices import (
    RATING_LABELS,
    WISH_ACTION_LABELS,
    WISH_STATUS_LABELS,
    AreaLevel,
    WishAction,
    WishStatus,
    choices,
)
from app.models.wishes import DESCRIPTION_MAX, TITLE_MAX
from app.services import attachments, contact, wishes
from app.services.errors import DomainError
from app.services.masking import mask_name

# what staff may do to a wish in the back office; cancel, confirm and dispute only for a resident
# without an account, whose grid staff act as the owner (wishes.is_owner decides)
STAFF_ACTIONS = (
    WishAction.PUBLISH,
    WishAction.REJECT,
    WishAction.CANCEL,
    WishAction.RELEASE,
    WishAction.CONFIRM,
    WishAction.DISPUTE,
)
EDITABLE_STATUSES = (WishStatus.SUBMITTED, WishStatus.PUBLISHED)
# the form fields each transition asks for (the service validates them)
ACTION_FIELDS = {
    WishAction.PUBLISH: (),
    WishAction.REJECT: ("reason",),
    WishAction.CANCEL: ("note",),
    WishAction.RELEASE: ("reason",),
    WishAction.CONFIRM: ("rating", "comment"),
    WishAction.DISPUTE: ("reason",),
}
# the service's error keys → the create form's fields
POST_FIELDS = {
    "resident_id": "resident",
    "grid_code": "grid",
    "category": "category",
    "title": "title",
    "description": "description",
}


# --- categories ------------------------------------------------------------------------------------
class WishCategoryAdmin(ReferenceView):
    """The kinds of wishes residents pick from; a category in use is deactivated, not deleted."""

    column_list = ("code", "name", "position", "active")
    column_sortable_list = ("code", "name", "position", "active")
    column_default_sort = "position"
    column_searchable_list = ("code", "name")
    form_columns = ("code", "name", "position", "active")
    form_args = {
        "code": {
            "validators": [
                InputRequired(),
                Regexp(
                    r"^[a-z][a-z0-9_-]*$",
                    message=_l("Use lowercase letters, digits, - and _ only, starting with a letter."),
                ),
            ]
        }
    }
    can_export = False


# --- wishes ----------------------------------------------------------------------------------------
class WishAdmin(CallMixin, OneGridModelView):
    """Every wish in the user's area; staff post for residents (帮办代办) and move wishes along the lifecycle."""

    edit_roles = AREA_STAFF
    can_delete = False  # wishes are history: reject or cancel them instead
    details_template = "admin/wish_details.html"
    transition_template = "admin/wish_transition.html"
    column_list = ("title", "category", "grid", "status", "owner", "claimed_by", "deadline", "created_at")
    eager_paths = ("category", "grid.parent", "owner", "resident", "claimed_by", "posted_by")
    column_details_list = (
        "id",
        "title",
        "description",
        "category",
        "grid",
        "status",
        "owner",
        "assisted",
        "posted_by",
        "claimed_by",
        "hours",
        "completion_note",
        "rating",
        "comment",
        "reject_reason",
        "created_at",
        "published_at",
        "claimed_at",
        "done_at",
        "confirmed_at",
    )
    column_export_list = column_list
    column_sortable_list = ("title", ("grid", "grid_code"), "status", "created_at")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("title",)
    form_columns = ("category", "title", "description")
    form_area_levels = {"grid": AreaLevel.GRID}

    def __init__(self, *args, **kwargs):
        self.column_formatters = dict(FORMATTERS)
        self.column_formatters_export = dict(EXPORT_FORMATTERS)
        self.column_filters = self.filters()
        self.form_ajax_refs = {
            "resident": ResidentLoader(
                "resident", Resident, fields=["name"], page_size=20, placeholder=_l("Type a name to search…")
            )
        }
        self.form_args = {
            "category": {"query_factory": _active_categories, "validators": [InputRequired()]},
            "description": {"validators": [Optional(), Length(max=DESCRIPTION_MAX)]},
        }
        super().__init__(*args, **kwargs)

    def filters(self) -> list:
        return [
            FilterEqual(Wish.status, _l("Status"), options=choices(WISH_STATUS_LABELS)),
            category_filter(),
            *area_filters(Wish.grid_code),
            AssistedFilter(),
        ]

    # --- posting on a resident's behalf (帮办代办) -----------------------------------------------
    def get_create_form(self):
        loader: QueryAjaxModelLoader = self._form_ajax_refs["resident"]

        class WishPostForm(self.form_base_class):
            resident = AjaxSelectField(
                loader,
                _l("Resident"),
                validators=[InputRequired()],
                description=_l("The resident you are posting for."),
            )
            category = QuerySelectField(
                _l("Category"), query_factory=_active_categories, validators=[InputRequired()]
            )
            # scope_form_choices confines it to the grids of the user's area (form_area_levels)
            grid = QuerySelectField(
                _l("Grid"),
                query_factory=lambda: db.session.query(Area),
                allow_blank=True,
                blank_text=_l("The resident's grid"),
            )
            title = StringField(_l("Title"), validators=[InputRequired(), Length(max=TITLE_MAX)])
            description = TextAreaField(
                _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)]
            )
            publish = BooleanField(_l("Publish now"), description=_l("Put it on the public board at once."))

        return WishPostForm

    def create_model(self, form):
        try:
            wish = wishes.post_wish(
                current_user,
                title=form.title.data,
                description=form.description.data,
                category_code=form.category.data.code if form.category.data else None,
                grid_code=form.grid.data.code if form.grid.data else None,
                resident_id=form.resident.data.id if form.resident.data else None,
                publish=bool(form.publish.data),
            )
        except DomainError as error:
            return form_refused(form, error, POST_FIELDS, "title")
        db.session.commit()  # the service audited it
        return wish

    def get_save_return_url(self, model, is_created=False):
        if is_created:
            return self.get_url(".details_view", id=model.id)
        return super().get_save_return_url(model, is_created)

    # --- editing: the words only, and only before anyone has claimed the wish ----------------------
    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        wish = self._wish_from_request()
        if wish.status not in EDITABLE_STATUSES:
            flash(_("Only wishes awaiting review or published can be edited."), "error")
            return redirect(self.get_url(".details_view", id=wish.id))
        return super().edit_view()

    def before_save(self, form, model, is_created):
        if model.status not in EDITABLE_STATUSES:  # claimed meanwhile
            raise ValidationError(_("Only wishes awaiting review or published can be edited."))
        model.updated_at = utcnow()

    # --- transitions -----------------------------------------------------------------------------
    @action("publish", _l("Publish"), _l("Publish the selected wishes on the public board?"))
    def action_publish(self, ids):
        published, failed = 0, []
        for raw in ids:
            wish = self.find_visible(parse_id(raw))
            if wish is None:
                failed.append(_("#%(id)s: not found.", id=raw))
                continue
            title = wish.title
            try:
                self._transition(wish, WishAction.PUBLISH, {})
            except DomainError as error:
                db.session.rollback()
                failed.append(f"{title}: {error.message}")
                continue
            published += 1
        if published:
            flash(ngettext("%(num)d wish published.", "%(num)d wishes published.", published), "success")
        if failed:
            flash(_("Not published: %(reasons)s", reasons=" ".join(failed)), "error")

    @expose("/transition/<action>/", methods=("GET", "POST"))
    def transition_view(self, action):
        """A confirmation page asking for the action's values (GET); the transition itself (POST)."""
        if action not in STAFF_ACTIONS:
            abort(404)
        action = WishAction(action)
        wish = self._wish_from_request()
        details_url = self.get_url(".details_view", id=wish.id)
        return_url = get_redirect_target() or self.after_transition_url(wish)
        values = {f: (request.form.get(f) or "").strip() for f in ACTION_FIELDS[action]}
        errors: dict = {}
        if request.method == "POST":
            done, errors = run_step(lambda: self._transition(wish, action, values))
            if done is REFUSED:
                return redirect(return_url)
            if done:
                flash(_("The wish is now “%(status)s”.", status=status_label(wish.status)), "success")
                return redirect(return_url)
        else:
            try:
                wishes.check_action(current_user, wish, action)
            except DomainError as error:
                flash(error.message, "error")
                return redirect(details_url)
        return self.render(
            self.transition_template,
            wish=wish,
            action=action,
            action_label=_action_verb(action),
            values=values,
            errors=errors,
            fields=ACTION_FIELDS[action],
            ratings=choices(RATING_LABELS),
            return_url=return_url,
            cancel_url=details_url,
            owner=mask_name(wish.owner_name),
        )

    def after_transition_url(self, wish: Wish) -> str:
        """Where a transition returns to when the page that asked for it did not say."""
        return self.get_url(".details_view", id=wish.id)

    def _transition(self, wish: Wish, action: WishAction, values: dict) -> None:
        """Run one transition through the service (which audits it) and commit; a DomainError propagates uncommitted."""
        wishes.perform(current_user, wish, action, **values)
        db.session.commit()

    # --- loading ---------------------------------------------------------------------------------
    def _wish_from_request(self) -> Wish:
        return self.get_one(request.values.get("id", ""))

    # --- the details page ------------------------------------------------------------------------
    def call_contact(self, model):
        return contact.reveal_wish_owner(current_user, model)

    def details_extras(self, model):
        step_photos = attachments.of_steps(current_user, model.steps)
        steps = [
            {
                "action": str(WISH_ACTION_LABELS.get(s.action, s.action)),
                "actor": person(s.actor),
                "from": status_label(s.from_status) if s.from_status else "",
                "to": status_label(s.to_status),
                "at": when(s.at),
                "note": s.note or "",
                "photos": step_photos.get(s.id, []),
            }
            for s in model.steps
        ]
        actions = [
            (a, _action_verb(a)) for a in wishes.available_actions(current_user, model) if a in STAFF_ACTIONS
        ]
        deadline = wishes.deadline_now(model)
        return {
            "steps": steps,
            "released": release_counts(model),
            "can_call": call_allowed(),
            "photos": attachments.listed(attachments.Subject.of_wish(model)),
            "wish_actions": actions,
            "deadline": when(deadline.at) if deadline else "",
            "deadline_label": deadline.label if deadline else "",
            "overdue": deadline is not None and deadline.overdue,
            "editable": model.status in EDITABLE_STATUSES,
        }


class WishReviewAdmin(WishAdmin):
    """Submitted wishes waiting for grid staff, oldest first, with their review deadline."""

    can_create = False
    can_export = False
    list_template = "admin/wish_review_list.html"  # the text, and 发布 / 退回 per row
    column_list = ("title", "description", "category", "grid", "owner", "posted_by", "created_at", "deadline")
    column_sortable_list = ("title", ("grid", "grid_code"), "created_at", ("deadline", "respond_by"))
    column_default_sort = ("created_at", False)
    column_labels = {**WishAdmin.column_labels, "deadline": _l("Review by")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters["description"] = clamped_text

    def row_actions_of(self, wish: Wish) -> dict[str, str]:
        """The review steps the service offers the user on `wish` now ({verb: button text})."""
        return {
            str(a): _action_verb(a)
            for a in wishes.available_actions(current_user, wish)
            if a in (WishAction.PUBLISH, WishAction.REJECT)
        }

    def after_transition_url(self, wish: Wish) -> str:
        return self.get_url(".index_view")  # back to the queue, to review the next one

    def filters(self) -> list:
        return [category_filter(), *area_filters(Wish.grid_code), AssistedFilter(), OverdueReviewFilter()]

    def get_query(self):
        return super().get_query().filter(Wish.status == WishStatus.SUBMITTED)

    def get_count_query(self):
        return super().get_count_query().filter(Wish.status == WishStatus.SUBMITTED)


def _active_categories():
    return (
        db.session.query(WishCategory).filter(WishCategory.active.is_(True)).order_by(WishCategory.position)
    )


def _action_verb(action: WishAction) -> str:
    """The button text of a transition."""
    return str(
        {
            WishAction.PUBLISH: _l("Publish"),
            WishAction.REJECT: _l("Reject"),
            WishAction.CANCEL: _l("Cancel the wish"),
            WishAction.RELEASE: _l("Release the claim"),
            WishAction.CONFIRM: _l("Confirm and rate"),
            WishAction.DISPUTE: _l("Dispute"),
        }[action]
    )
