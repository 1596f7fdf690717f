"""Form validators for Chinese phone and ID numbers."""

from flask_babel import gettext as _
from wtforms.validators import ValidationError

from app.services.idcard import id_number_error
from app.services.text import PHONE_RE


def phone_number(form, field):
    """A mainland mobile (11 digits) or a landline with its area code."""
    if field.data and not PHONE_RE.match(field.data.strip()):
        raise ValidationError(_("Enter an 11-digit mobile number or a landline such as 029-33211234."))


def id_number(form, field):
    """An 18-character resident ID number with a valid birth date and check digit."""
    if not field.data:
        return
    problem = id_number_error(field.data.strip())
    if problem == "format":
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."))
    if problem == "birth_date":
        raise ValidationError(_("The birth date inside the ID number is not a real date."))
    if problem == "checksum":
        raise ValidationError(_("The ID number's check digit is wrong; please check it."))
