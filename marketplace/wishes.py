"""Micro-wish pages of the public site: the board's query, a wish and its actions, posting, my wishes and claims."""

from dataclasses import dataclass
from datetime import UTC
from math import ceil

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Area, Wish, WishCategory, WishStep
from app.models.base import under_area, utcnow
from app.models.choices import (
    RATING_LABELS,
    WISH_ACTION_LABELS,
    WISH_STATUS_LABELS,
    Role,
    WishAction,
    WishStatus,
)
from app.security import forbid_storing
from app.services import attachments, contact
from app.services import wishes as service
from app.services.clock import local_time
from app.services.errors import Invalid
from app.services.masking import mask_name
from marketplace.areas import grid_choices
from marketplace.blueprint import bp
from marketplace.errors import mark_fields, on_refusal
from marketplace.forms import ACTION_FORMS, WishForm
from marketplace.navigation import back_office_url
from marketplace.photos import uploaded_photos

# the actions the site offers; publishing and rejecting happen in the back office
SITE_ACTIONS = tuple(ACTION_FORMS)
PHOTO_ACTIONS = (WishAction.COMPLETE,)  # its form takes an evidence photo
DONE_MESSAGES = {
    WishAction.CLAIM: _l("You have claimed this wish."),
    WishAction.RELEASE: _l("You have given this wish back to the board."),
    WishAction.COMPLETE: _l("Marked as done; the resident will now confirm it."),
    WishAction.CANCEL: _l("The wish has been cancelled."),
    WishAction.CONFIRM: _l("Thank you for confirming and rating the help."),
    WishAction.DISPUTE: _l("The wish has gone back to its member."),
    WishAction.RESUBMIT: _l("Sent again: your grid worker will review it."),
}
CLAIM_SECTIONS = (WishStatus.CLAIMED, WishStatus.DONE, WishStatus.CONFIRMED)
ACTION_BUTTONS = {
    WishAction.CLAIM: _l("Claim this wish"),
    WishAction.RELEASE: _l("Give it back to the board"),
    WishAction.COMPLETE: _l("Mark as done"),
    WishAction.CANCEL: _l("Cancel this wish"),
    WishAction.CONFIRM: _l("Confirm and rate"),
    WishAction.DISPUTE: _l("It is not done yet"),
    WishAction.RESUBMIT: _l("Send it again for review"),
}

bp.add_app_template_global(WISH_STATUS_LABELS, "status_labels")
bp.add_app_template_global(WISH_ACTION_LABELS, "action_labels")
bp.add_app_template_global(RATING_LABELS, "rating_labels")
bp.add_app_template_global(ACTION_BUTTONS, "action_buttons")
bp.add_app_template_global(
    {
        "owner": _l("the resident"),
        "grid_worker": _l("grid worker"),
        "claimer": _l("the member helping you"),
        "reporter": _l("reporter"),
    },
    "contact_roles",
)
bp.add_app_template_filter(mask_name, "mask_name")


def _viewer():
    """The logged-in user, or None for a visitor (the wish service takes None for "nobody")."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def _with_places(query):
    """Load a wish list's category, grid (with its community, for the short name) and owner in the same query."""
    return query.options(
        joinedload(Wish.category),
        joinedload(Wish.grid).joinedload(Area.parent),
        joinedload(Wish.owner),
        joinedload(Wish.resident),
    )


@bp.app_template_filter("minute")
def minute(moment) -> str:
    """A moment on the district's clock, to the minute: 2026-12-03 10:01."""
    return local_time(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


@bp.app_template_filter("ago")
def ago(moment) -> str:
    """'3 hours ago' / 'in 2 days' from now; naive datetimes (SQLite) are UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_timedelta(moment - utcnow(), add_direction=True)


def refused(message: str):
    """A 403 page that says why, in the site's layout."""
    return render_template("errors/403.html", message=message), 403


# --- the board -----------------------------------------------------------------------------------
@dataclass
class BoardPage:
    """One page of published wishes, newest first."""

    wishes: list[Wish]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def board_page(area_prefix: str, category: WishCategory | None, page: int) -> BoardPage:
    """Published wishes under `area_prefix` (all when empty) of `category` (any when None); one page."""
    conditions = [Wish.status == WishStatus.PUBLISHED]
    if area_prefix:
        conditions.append(under_area(Wish.grid_code, area_prefix))
    if category is not None:
        conditions.append(Wish.category_id == category.id)
    per_page = current_app.config["BOARD_PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(Wish).where(*conditions)) or 0
    items = (
        db.session.scalars(
            _with_places(select(Wish).where(*conditions))
            .order_by(Wish.published_at.desc(), Wish.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .unique()
        .all()
    )
    return BoardPage(list(items), page, per_page, total)


def claimable_ids(wishes: list[Wish]) -> set[int]:
    """The wishes on a page the logged-in member may claim now (one member lookup for the page)."""
    viewer = _viewer()
    member = service.member_for(viewer)
    if member is None:
        return set()
    return {w.id for w in wishes if service.can(viewer, w, WishAction.CLAIM, member)}


# --- one wish ------------------------------------------------------------------------------------
def _visible_wish_or_404(wish_id: int) -> Wish:
    wish = service.get_visible_wish(_viewer(), wish_id)
    if wish is None:
        abort(404)
    return wish


def render_wish(wish: Wish, posted_form=None, posted_action: str | None = None, status: int = 200):
    """The wish page with a form for each action the viewer may take (the posted one keeps its errors)."""
    viewer = _viewer()
    allowed = service.available_actions(viewer, wish)
    actions = [a for a in SITE_ACTIONS if a in allowed]
    forms = {
        a: (posted_form if a == posted_action and posted_form is not None else _blank_form(a, wish))
        for a in actions
    }
    if WishAction.RESUBMIT in forms:  # the rejected wish's fields to edit
        forms[WishAction.RESUBMIT].category.choices = [(c.code, c.name) for c in service.active_categories()]
    steps = db.session.scalars(
        select(WishStep)
        .where(WishStep.wish_id == wish.id)
        .options(joinedload(WishStep.actor))
        .order_by(WishStep.at, WishStep.id)
    ).all()
    involved = viewer is not None and (service.is_owner(viewer, wish) or service.is_staff_for(viewer, wish))
    contacts = contact.wish_contacts(viewer, wish)
    if any(c.phone for c in contacts):  # each phone shown is an audit row, kept; no cache keeps the page
        db.session.commit()
        forbid_storing()
    return render_template(
        "marketplace/wish.html",
        wish=wish,
        steps=steps,
        forms=forms,
        show_notes=service.can_see_notes(viewer, wish),
        photos=attachments.listed(attachments.Subject.of_wish(wish)),
        step_photos=attachments.of_steps(viewer, steps),
        photo_actions=PHOTO_ACTIONS,
        contacts=contacts,
        contact_hint=None if contact.display_on() else contact.hidden_hint(),
        show_deadlines=involved,
        confirming_claim=request.args.get("confirm") == "claim" or posted_action == WishAction.CLAIM,
        deadline=service.deadline_now(wish),
        admin_url=(
            back_office_url() + f"wish/details/?id={wish.id}"
            if viewer is not None and service.is_staff_for(viewer, wish)
            else None
        ),
    ), status


def _blank_form(action: WishAction, wish: Wish):
    if action == WishAction.RESUBMIT:  # starts from the wish as it was sent
        data = {"title": wish.title, "description": wish.description, "category": wish.category.code}
        return ACTION_FORMS[action](prefix=action, data=data)
    return ACTION_FORMS[action](prefix=action)


@bp.get("/wishes/<int:wish_id>")
def wish_page(wish_id: int):
    """A wish, its history and what the viewer may do with it; 404 when the viewer may not see it."""
    return render_wish(_visible_wish_or_404(wish_id))


@bp.post("/wishes/<int:wish_id>/<action>")
@login_required
def wish_action(wish_id: int, action: str):
    """Take one action on a wish through the wish service. Refused: values that do not pass show the wish page
    again with the form's fields marked (422); any other refusal is flashed on the wish page (303)."""
    if action not in SITE_ACTIONS:
        abort(404)
    action = WishAction(action)
    wish = _visible_wish_or_404(wish_id)
    form = ACTION_FORMS[action](prefix=action)
    form.validate_on_submit()  # fills the fields; the service judges the values
    values = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    on_refusal(
        back_to=url_for("marketplace.wish_page", wish_id=wish_id),
        form=lambda error: _action_form_again(wish_id, action, form, error),
        form_for=(Invalid,),
    )
    user = current_user._get_current_object()
    evidence = attachments.prepare_all(uploaded_photos()) if action in PHOTO_ACTIONS else []
    service.perform(user, wish, action, **values)
    if evidence:
        step = attachments.latest_step(wish, action, user)
        attachments.store(user, attachments.Subject.of_wish(wish, step), evidence)
    db.session.commit()
    flash(str(DONE_MESSAGES[action]), "success")
    return redirect(url_for("marketplace.wish_page", wish_id=wish_id), 303)


def _action_form_again(wish_id: int, action: WishAction, form, error: Invalid):
    flash(_("Please correct the marked fields."), "error")
    return render_wish(_visible_wish_or_404(wish_id), mark_fields(form, error), action)


# --- posting -------------------------------------------------------------------------------------
@bp.route("/wishes/new", methods=["GET", "POST"])
@login_required
def new_wish():
    """A resident posts a micro-wish; it waits for their grid worker's review before the board shows it."""
    if current_user.role != Role.RESIDENT:
        return refused(
            _("Only residents post wishes here. Grid staff post on a resident's behalf in the back office.")
        )
    form = WishForm()
    form.category.choices = [("", _("Choose a category…"))] + [
        (c.code, c.name) for c in service.active_categories()
    ]
    form.grid_code.choices = grid_choices()
    if request.method == "GET":
        form.grid_code.data = current_user.area_code
    elif form.validate_on_submit():
        on_refusal(
            form=lambda error: render_template("marketplace/wish_new.html", form=mark_fields(form, error))
        )
        photos = attachments.prepare_all(
            uploaded_photos()
        )  # a refused photo refuses the wish: nothing is kept
        wish = service.post_wish(
            current_user._get_current_object(),
            title=form.title.data,
            description=form.description.data,
            category_code=form.category.data,
            grid_code=form.grid_code.data,
        )
        attachments.store(current_user._get_current_object(), attachments.Subject.of_wish(wish), photos)
        db.session.commit()
        flash(_("Your wish has been submitted and awaits review by your grid worker."), "success")
        return redirect(url_for("marketplace.wish_page", wish_id=wish.id), 303)
    return render_template("marketplace/wish_new.html", form=form)


# --- my wishes, my claims ------------------------------------------------------------------------
@bp.get("/my/wishes")
@login_required
def my_wishes():
    """A resident's own wishes in every status, newest first, with the deadline each now runs against."""
    if current_user.role != Role.RESIDENT:
        return refused(_("This page lists the wishes a resident has posted."))
    items = (
        db.session.scalars(
            _with_places(select(Wish).where(Wish.owner_id == current_user.id)).order_by(
                Wish.created_at.desc(), Wish.id.desc()
            )
        )
        .unique()
        .all()
    )
    rows = [(w, service.deadline_now(w)) for w in items]
    return render_template("marketplace/my_wishes.html", rows=rows)


@bp.get("/my/claims")
@login_required
def my_claims():
    """A member's claimed, done and confirmed wishes, their service hours and (later) certificates."""
    member = service.member_for(current_user._get_current_object())
    if member is None:
        return refused(_("This page lists the wishes a checked-in member has claimed."))
    items = (
        db.session.scalars(
            _with_places(
                select(Wish).where(Wish.claimed_by_id == member.id, Wish.status.in_(CLAIM_SECTIONS))
            ).order_by(Wish.claimed_at.desc(), Wish.id.desc())
        )
        .unique()
        .all()
    )
    sections = {status: [w for w in items if w.status == status] for status in CLAIM_SECTIONS}
    return render_template("marketplace/my_claims.html", member=member, sections=sections)
