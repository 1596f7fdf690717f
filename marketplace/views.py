"""The home page, the account page and the language switch."""
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Resident
from app.services.masking import mask_phone
from marketplace import bp
from marketplace.areas import area_tree, overview_counts
from marketplace.navigation import back_office_url, safe_referrer, safe_target


@bp.app_context_processor
def inject_site_links():
    """Links every page of the site needs in its header."""
    return {"back_office_url": back_office_url}


@bp.get("/")
def home():
    """The district at a glance, and how micro-wishes travel from resident to member."""
    return render_template("marketplace/home.html", districts=area_tree(), counts=overview_counts())


@bp.get("/account")
@login_required
def account():
    """Who you are here: name, role, area and (masked) phone."""
    profile = (db.session.scalar(select(Resident).where(Resident.user_id == current_user.id))
               or db.session.scalar(select(Member).where(Member.user_id == current_user.id)))
    phone = mask_phone(profile.phone) if profile is not None else ""
    return render_template("marketplace/account.html", profile=profile, masked_phone=phone)


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
