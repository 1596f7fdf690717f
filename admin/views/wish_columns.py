"""The wish lists' columns and filters in the back office: labels, deadlines, the assisted and overdue filters.

Also the resident picker of the assisted posting form (ResidentLoader); admin.views.wishes uses them.
"""

from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import not_, or_

from admin.display import person, when
from admin.scoping import RowFilter, ScopedAjaxLoader
from app.extensions import db
from app.models import Wish, WishCategory
from app.models.base import utcnow
from app.models.choices import RATING_LABELS, WISH_STATUS_LABELS
from app.services import wishes
from app.services.masking import mask_name


def status_label(status) -> str:
    return str(WISH_STATUS_LABELS.get(status, status or ""))


def _deadline(view, context, model, name, plain: bool = False):
    deadline = wishes.deadline_now(model)
    if deadline is None:
        return ""
    if plain:
        return when(deadline.at)
    if not deadline.overdue:
        return f"{deadline.label} {when(deadline.at)}"
    return Markup('<span class="badge badge-danger og-overdue">%s %s · %s</span>') % (
        deadline.label,
        when(deadline.at),
        _("overdue"),
    )


def _datetime(view, context, model, name):
    return when(getattr(model, name))


def clamped_text(view, context, model, name):
    """The wish's text, clamped to two lines in the list; the whole on hover (title) or tap (focus)."""
    text = getattr(model, name) or ""
    if not text:
        return ""
    return Markup('<span class="og-clamp" tabindex="0" title="%s">%s</span>') % (text, text)


FORMATTERS = {
    "status": lambda v, c, m, n: status_label(m.status),
    "owner": lambda v, c, m, n: mask_name(m.owner_name),
    "posted_by": lambda v, c, m, n: person(m.posted_by),
    "claimed_by": lambda v, c, m, n: m.claimed_by.name if m.claimed_by else "",
    "rating": lambda v, c, m, n: str(RATING_LABELS.get(m.rating, m.rating or "")),
    "assisted": lambda v, c, m, n: _("Yes") if m.assisted else _("No"),
    "deadline": _deadline,
    **{
        c: _datetime
        for c in (
            "respond_by",
            "reply_by",
            "resolve_by",
            "created_at",
            "published_at",
            "claimed_at",
            "done_at",
            "confirmed_at",
        )
    },
}
EXPORT_FORMATTERS = {**FORMATTERS, "deadline": lambda v, c, m, n: _deadline(v, c, m, n, plain=True)}


# --- filters ---------------------------------------------------------------------------------------
def category_filter() -> RowFilter:
    """Wishes of one category (options: every category, active or not)."""
    return RowFilter(
        Wish.category_id,
        _l("Category"),
        db.select(WishCategory).order_by(WishCategory.position),
        lambda category: category.name,
    )


class AssistedFilter(BaseSQLAFilter):
    """Wishes grid staff posted for a resident (帮办代办), or the residents' own."""

    def __init__(self):
        super().__init__(
            Wish.posted_by_id, _l("Assisted posting"), options=[("1", _l("Yes")), ("0", _l("No"))]
        )

    def apply(self, query, value, alias=None):
        assisted = or_(Wish.owner_id.is_(None), Wish.owner_id != Wish.posted_by_id)
        return query.filter(assisted if value == "1" else not_(assisted))

    def operation(self):
        return admin_lazy_gettext("equals")


class OverdueReviewFilter(BaseSQLAFilter):
    """Submitted wishes whose review deadline has passed."""

    def __init__(self):
        super().__init__(Wish.respond_by, _l("Overdue"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) < utcnow())

    def operation(self):
        return admin_lazy_gettext("equals")


class ResidentLoader(ScopedAjaxLoader):
    """Residents in scope, shown with their grid so two people of one name can be told apart."""

    def format(self, model):
        if model is None:
            return None
        grid = model.grid.short_name if model.grid is not None else model.grid_code
        return getattr(model, self.pk), f"{model.name} · {grid}"
