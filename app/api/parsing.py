"""The API's argument parser: bodies too deep or too large to decode, and unstorable text, stop before any schema."""

import json

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from webargs.flaskparser import FlaskParser

from app.services.text import contains_unstorable_text

NOT_ALLOWED = _l("Contains a character that is not allowed.")


class ApiParser(FlaskParser):
    """webargs' Flask parser, checking the text of every field before its schema loads it.

    Checked here rather than in each field's type, so no field of any schema can be forgotten.
    """

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except (RecursionError, ValueError) as error:
            # json.loads raises RecursionError when nested about 1,000 deep, and a plain ValueError for an
            # integer of more than 4,300 digits; webargs only expects JSONDecodeError (itself a ValueError)
            if isinstance(error, json.JSONDecodeError):
                raise
            self._handle_invalid_json_error(json.JSONDecodeError(str(error), "", 0), req)

    def pre_load(self, location_data, *, schema, req, location):
        """Refuse, by field, any text holding NUL or a lone surrogate (422, like any other invalid field).

        Only the fields the schema reads are looked at: a header or parameter it ignores cannot fail a request.
        """
        if not hasattr(location_data, "items"):
            return location_data  # a JSON array or scalar: the schema refuses it as a whole
        errors = {}
        for name, field in schema.load_fields.items():
            key = field.data_key or name
            if key in location_data and contains_unstorable_text(location_data[key]):
                errors[key] = [str(NOT_ALLOWED)]
        if errors:
            raise ma.ValidationError(errors)
        return location_data
