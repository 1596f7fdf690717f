"""Forms of the public site: login, resident registration, password change, posting a wish and its actions."""

import re

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto  # Flask-WTF's default formdata: "read it from the request"
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from app.models.choices import RATING_LABELS, WishAction
from app.models.wishes import DESCRIPTION_MAX, NOTE_MAX, TITLE_MAX
from app.services.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

MOBILE_RE = re.compile(r"1[3-9]\d{9}")  # mainland mobile numbers: 11 digits starting 13–19
USERNAME_RE = r"^[A-Za-z0-9_.-]+$"


def normalise_phone(value: str | None) -> str | None:
    """Drop spaces, dashes and a +86 country prefix, so '+86 138-0013-8000' becomes 13800138000."""
    if value is None:
        return None
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def new_password_field(label=_l("Password")) -> PasswordField:  # noqa: B008 (a lazy string)
    """A password being chosen: the length rule shown and checked in the browser and on the server."""
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("The password must be %(min)d to %(max)d characters long."),
            ),
        ],
        description=_l(
            "At least %(n)d characters. A phrase of several words is easy to remember.", n=MIN_PASSWORD_LENGTH
        ),
        render_kw={
            "autocomplete": "new-password",
            "minlength": MIN_PASSWORD_LENGTH,
            "maxlength": MAX_PASSWORD_LENGTH,
        },
    )


def repeat_password_field(label=_l("Repeat the password")) -> PasswordField:  # noqa: B008 (a lazy string)
    return PasswordField(
        label,
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class SiteForm(FlaskForm):
    """A form of the site, filled from posted form fields only.

    Flask-WTF would also fill it from a JSON body, whose values need not be text at all (an object where a name
    should be) and crash the fields' filters; no page of the site posts JSON.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and request.is_json:
                return None  # the form stays empty and says what is missing
            return super().wrap_formdata(form, formdata)


class LoginForm(SiteForm):
    """Username and password; the same error for any wrong pair, so accounts cannot be probed."""

    username = StringField(
        _l("Username"),
        filters=[strip],
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegisterForm(SiteForm):
    """Resident self-registration: who you are, how to reach you, and your home grid."""

    username = StringField(
        _l("Username"),
        filters=[strip],
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(USERNAME_RE, message=_l("Use letters, digits, '.', '_' or '-' only.")),
        ],
        description=_l("You log in with it; letters, digits, '.', '_' or '-'."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(
        _l("Display name"),
        filters=[strip],
        validators=[DataRequired(), Length(max=50)],
        description=_l("Your name as neighbours and grid staff know it."),
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Mobile phone"),
        filters=[normalise_phone],
        validators=[DataRequired()],
        description=_l("11-digit mainland mobile number; only grid staff see it, masked."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    building = SelectField(
        _l("Your building"),
        validators=[InputRequired(message=_l("Choose your compound and building."))],
        description=_l(
            "Search your compound (小区) above, then pick your building: your grid follows from it."
        ),
    )
    id_number = StringField(
        _l("ID number (optional)"),
        filters=[strip],
        validators=[Optional(), Length(min=18, max=18)],
        description=_l("If your grid already keeps your record, it is linked to your account."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    password = new_password_field()
    confirm = repeat_password_field()

    def validate_phone(self, field) -> None:
        if not MOBILE_RE.fullmatch(field.data or ""):
            raise ValidationError(_l("Enter an 11-digit mainland mobile number, e.g. 13800138000."))


class ChangePasswordForm(SiteForm):
    """A logged-in user chooses a new password, proving they know the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field(_l("New password"))
    confirm = repeat_password_field(_l("Repeat the new password"))


# --- micro-wishes: the wish service checks every value, so its messages are the only ones shown ----


class WishForm(SiteForm):
    """A resident's micro-wish: what, which kind, where, and the details."""

    title = StringField(
        _l("Title"), filters=[strip], render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"}
    )
    category = SelectField(_l("Category"), validate_choice=False)
    grid_code = SelectField(_l("Grid"), validate_choice=False, description=_l("Where the help is needed."))
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        description=_l("What you need, when and where. No ID or phone numbers."),
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 5},
    )


class ActionForm(SiteForm):
    """An action on a wish that needs nothing but the button (claim): the CSRF token only."""


class NoteForm(ActionForm):
    """Cancel or release, with an optional note."""

    note = TextAreaField(_l("Note"), filters=[strip], render_kw={"maxlength": NOTE_MAX, "rows": 2})


class WorkPhoneForm(SiteForm):
    """A member's work phone, shown to the resident whose wish they claim while the claim lasts."""

    phone = StringField(
        _l("Work phone"),
        filters=[strip],
        description=_l("Shown to the resident whose wish you claim, while the claim lasts. Empty: none."),
        render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20},
    )


class ReleaseForm(ActionForm):
    """The claiming member asks to be released, saying why (staff see how often a member gives claims back)."""

    reason = TextAreaField(
        _l("Why are you giving it back?"),
        filters=[strip],
        description=_l("The resident and the grid worker read it."),
        render_kw={"maxlength": NOTE_MAX, "rows": 2},
    )


class ResubmitForm(ActionForm):
    """The owner edits a rejected wish and sends it to review again."""

    title = StringField(
        _l("Title"), filters=[strip], render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"}
    )
    category = SelectField(_l("Category"), validate_choice=False)
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        description=_l("What you need, when and where. No ID or phone numbers."),
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 5},
    )


class CompleteForm(ActionForm):
    """The claiming member reports what was done and how long it took."""

    note = TextAreaField(_l("What was done"), filters=[strip], render_kw={"maxlength": NOTE_MAX, "rows": 3})
    hours = StringField(
        _l("Hours"),
        filters=[strip],
        description=_l("0.5 to 24, e.g. 1.5."),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class ConfirmForm(ActionForm):
    """The owner rates the help 好/中/差, with an optional comment."""

    rating = RadioField(
        _l("Rating"),
        validate_choice=False,
        choices=[(rating.value, label) for rating, label in RATING_LABELS.items()],
    )
    comment = TextAreaField(_l("Comment"), filters=[strip], render_kw={"maxlength": NOTE_MAX, "rows": 2})


class DisputeForm(ActionForm):
    """The owner says the work is not done, and why."""

    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        description=_l("What is still not done?"),
        render_kw={"maxlength": NOTE_MAX, "rows": 2},
    )


# in the order the wish page offers them: the step forward first, the step back or out last
ACTION_FORMS = {
    WishAction.CLAIM: ActionForm,
    WishAction.COMPLETE: CompleteForm,
    WishAction.CONFIRM: ConfirmForm,
    WishAction.DISPUTE: DisputeForm,
    WishAction.RESUBMIT: ResubmitForm,
    WishAction.RELEASE: ReleaseForm,
    WishAction.CANCEL: NoteForm,
}
