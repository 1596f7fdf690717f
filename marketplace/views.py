"""The home page (the wish board), the account page and the language switch."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import cache, db
from app.ids import parse_page
from app.models import Member, Resident
from app.services import callups, contact
from app.services.masking import mask_phone
from app.services.wishes import active_categories
from marketplace.areas import area_filter, area_tree, overview_counts
from marketplace.blueprint import bp
from marketplace.elder import elder_mode
from marketplace.errors import on_refusal
from marketplace.forms import WorkPhoneForm
from marketplace.navigation import back_office_url, safe_referrer, safe_target
from marketplace.wishes import board_page, claimable_ids


@bp.app_context_processor
def inject_site_links():
    """Links every page of the site needs in its header."""
    return {"back_office_url": back_office_url}


@bp.get("/")
def home():
    """The public board: published wishes newest first, filtered by area and category, then the district.

    Visitors share one rendering per language and filter for BOARD_CACHE_SECONDS: the board is the
    busiest page of the site, and nothing on it is personal until someone logs in.
    """
    seconds = current_app.config["BOARD_CACHE_SECONDS"]
    if seconds <= 0 or current_user.is_authenticated or session.get("_flashes"):
        return render_board()
    key = f"board:{get_locale()}:{int(elder_mode())}:{sorted(request.args.items(multi=True))}"
    page = cache.get(key)
    if page is None:
        page = render_board()
        cache.set(key, page, timeout=seconds)
    return page


def render_board() -> str:
    """The board page for the current request's filters."""
    area = area_filter(request.args.get("street"), request.args.get("community"), request.args.get("grid"))
    categories = active_categories()
    category = next((c for c in categories if c.code == request.args.get("category")), None)
    page = parse_page(request.args.get("page"))
    if page is None:
        abort(404)
    board = board_page(area.prefix, category, page)
    if page > board.pages:
        abort(404)
    filters = {**area.as_args(), **({"category": category.code} if category else {})}
    return render_template(
        "marketplace/home.html",
        board=board,
        area=area,
        categories=categories,
        category=category,
        filters=filters,
        claimable=claimable_ids(board.wishes),
        districts=area_tree(),
        counts=overview_counts(),
        open_callups=callups.open_for_member(current_user._get_current_object())
        if current_user.is_authenticated
        else [],
    )


@bp.get("/account")
@login_required
def account():
    """Who you are here: name, role, area and (masked) phone."""
    profile = db.session.scalar(
        select(Resident).where(Resident.user_id == current_user.id)
    ) or db.session.scalar(select(Member).where(Member.user_id == current_user.id))
    phone = mask_phone(profile.phone) if profile is not None else ""
    work_phone = WorkPhoneForm(phone=profile.phone) if isinstance(profile, Member) else None
    return render_template(
        "marketplace/account.html", profile=profile, masked_phone=phone, work_phone_form=work_phone
    )


@bp.post("/account/work-phone")
@login_required
def set_work_phone():
    """A member gives the work phone the residents whose wishes they claim see (empty: none)."""
    form = WorkPhoneForm()
    form.validate_on_submit()
    on_refusal(back_to=url_for("marketplace.account"))
    contact.set_work_phone(current_user._get_current_object(), form.phone.data)
    db.session.commit()
    flash(_("Your work phone has been saved."), "success")
    return redirect(url_for("marketplace.account"), 303)


@bp.route("/lang", methods=["POST"])
@bp.route("/lang/<code>", methods=["GET"])
def set_language(code: str | None = None):
    """Switch the interface language for this browser and, when logged in, for the account."""
    code = code or request.form.get("lang")
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated and current_user.locale != code:
        current_user.locale = code
        db.session.commit()
    target = safe_target(request.values.get("next")) or safe_referrer() or url_for("marketplace.home")
    return redirect(target, 303)
