"""双签字 on the phone: the grid's vanguard captain and grid leader see what awaits their signature and sign it."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.models.worklogs import WorkLog, WorkRecord
from app.services import work_records, worklogs
from app.services.errors import DomainError
from marketplace.blueprint import bp
from marketplace.forms import SiteForm
from marketplace.wishes import refused

KINDS = {
    "log": (WorkLog, worklogs.get_log, worklogs.sign_log),
    "record": (WorkRecord, work_records.get_record, work_records.sign_record),
}


@bp.route("/my/signatures")
@login_required
def my_signatures():
    """The work logs and records of the signer's grids that await their signature, oldest first."""
    user = current_user._get_current_object()
    if db.session.scalar(worklogs.signer_grids(user).limit(1)) is None:
        return refused(_("This page is for the vanguard captains and grid leaders of the grids."))
    logs = worklogs.awaiting_signature(user, WorkLog)
    records = worklogs.awaiting_signature(user, WorkRecord)
    return render_template("marketplace/my_signatures.html", logs=logs, records=records, form=SiteForm())


@bp.route("/my/signatures/<kind>/<int:entry_id>", methods=["POST"])
@login_required
def sign_entry(kind: str, entry_id: int):
    """Sign one work log or record as its grid's captain or leader (the service checks who and when)."""
    if kind not in KINDS or not SiteForm().validate_on_submit():
        abort(404 if kind not in KINDS else 400)
    _model, load, sign = KINDS[kind]
    user = current_user._get_current_object()
    entry = load(user, entry_id)
    if entry is None:
        abort(404)
    try:
        sign(user, entry)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("Signed.") if entry.status == "awaiting" else _("Signed by both: the entry is locked."),
            "success",
        )
    return redirect(url_for("marketplace.my_signatures"), 303)
