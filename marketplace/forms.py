"""Forms of the public site: login and resident registration."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Regexp, ValidationError

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


class LoginForm(FlaskForm):
    """Username and password; the same error for any wrong pair, so accounts cannot be probed."""

    username = StringField(_l("Username"), filters=[strip], validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegisterForm(FlaskForm):
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
    name = StringField(_l("Display name"), filters=[strip], validators=[DataRequired(), Length(max=50)],
                       description=_l("Your name as neighbours and grid staff know it."),
                       render_kw={"autocomplete": "name"})
    phone = StringField(_l("Mobile phone"), filters=[normalise_phone], validators=[DataRequired()],
                        description=_l("11-digit mainland mobile number; only grid staff see it, masked."),
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    grid_code = SelectField(_l("Home grid"), validators=[InputRequired()],
                            description=_l("Choose your street, community and grid."))
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                   message=_l("The password must be %(min)d to %(max)d characters long.")),
        ],
        description=_l("At least %(n)d characters. A phrase of several words is easy to remember.",
                       n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH,
                   "maxlength": MAX_PASSWORD_LENGTH},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_phone(self, field) -> None:
        if not MOBILE_RE.fullmatch(field.data or ""):
            raise ValidationError(_l("Enter an 11-digit mainland mobile number, e.g. 13800138000."))

