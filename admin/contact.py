"""Contact in the back office (issue 15 §2, §3): one click to call a report's reporter or a wish's resident,
the reporters' say on an event page, and how often a member gave claims back. The rules and the audit are
app.services.contact's and app.services.resident_say's."""

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models.choices import RATING_LABELS, STAFF_ROLES, WishAction
from app.models.wishes import Wish
from app.security import forbid_storing
from app.services import contact, resident_say
from app.services.errors import DomainError
from app.services.wish_access import member_for


class CallMixin:
    """`POST <view>/call/` (id in the form): the person's phone in full, as tel: and sms: links; audited."""

    call_template = "admin/call.html"

    def call_contact(self, model):
        """The service call revealing `model`'s person (views override)."""
        raise NotImplementedError

    @expose("/call/", methods=["POST"])
    def call_view(self):
        model = self.get_one(request.form.get("id", ""))
        return_url = get_redirect_target() or self.get_url(".details_view", id=model.id)
        try:
            shown = self.call_contact(model)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(return_url)
        db.session.commit()  # the reveal's audit row
        forbid_storing()
        hint = None if contact.display_on() else contact.hidden_hint()
        return self.render(self.call_template, model=model, contact=shown, hint=hint, return_url=return_url)


def call_allowed(_model=None) -> bool:
    """Whether the page offers the call button (staff in scope; the service decides again on the click)."""
    return current_user.role in STAFF_ROLES


def feedback_rows(event) -> list[dict]:
    """The reporter's say on each resolution of `event`, for its page."""
    return [
        {
            "fixed": f.fixed,
            "rating": str(RATING_LABELS.get(f.rating, f.rating)),
            "comment": f.comment or "",
            "at": f.at,
        }
        for f in resident_say.feedback_of(event)
    ]


def release_counts(wish: Wish) -> list[str]:
    """Per step of the wish's history: for a release, how many claims its member gave back lately; else ""."""
    return [
        releases_text(member_for(step.actor))
        if step.action == WishAction.RELEASE and step.actor is not None
        else ""
        for step in wish.steps
    ]


def releases_text(member) -> str:
    """'released 3 claims in 30 days': shown on the member's page and next to a release in a wish's history."""
    n = resident_say.recent_releases(member)
    return _("released %(n)d claims in %(days)d days", n=n, days=resident_say.RELEASE_WINDOW_DAYS)
