"""Public, no token: a grid's station (网格红色驿站) as JSON, and the check of a work badge."""

import marshmallow as ma
from flask import jsonify
from flask_babel import gettext as _

from app.api import api_blueprint
from app.api.common import UtcDateTime
from app.api.errors import ErrorSchema, api_abort
from app.services import badges, stations

bp = api_blueprint(
    "stations",
    __name__,
    "Public: a grid's red station (team, units, pledges, supervision phone), badge checks.",
)


class StationAreaSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class StationGridSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    short_name = ma.fields.String(
        required=True, metadata={"description": "with its community: 文汇社区第一网格"}
    )
    full_name = ma.fields.String(required=True, metadata={"description": "street / community / grid"})


class StationTeamPlaceSchema(ma.Schema):
    """A place of the grid's team as the district publishes it: never a resident's data."""

    role = ma.fields.String(required=True)
    role_label = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    duties = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "the work phone"})


class StationPledgeSchema(ma.Schema):
    """A unit's pledge (承诺事项); lapsed ones are not shown."""

    title = ma.fields.String(required=True)
    content = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    status_label = ma.fields.String(required=True)
    period_start = ma.fields.Date(allow_none=True)
    period_end = ma.fields.Date(allow_none=True)


class StationServiceItemSchema(ma.Schema):
    """A service item agreed at a joint meeting (open or done)."""

    title = ma.fields.String(required=True)
    due_on = ma.fields.Date(required=True)
    status = ma.fields.String(required=True)
    status_label = ma.fields.String(required=True)
    overdue = ma.fields.Boolean(required=True)
    owner = ma.fields.String(allow_none=True, metadata={"description": "the owning unit, if a unit owns it"})


class StationUnitSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    branch_name = ma.fields.String(allow_none=True)
    pledges = ma.fields.List(ma.fields.Nested(StationPledgeSchema), required=True)
    service_items = ma.fields.List(ma.fields.Nested(StationServiceItemSchema), required=True)


class StationMembersSchema(ma.Schema):
    count = ma.fields.Integer(required=True, metadata={"description": "checked-in members (active)"})
    hours = ma.fields.Float(required=True, metadata={"description": "their service hours, in total"})


class StationWishSchema(ma.Schema):
    title = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    owner = ma.fields.String(required=True, metadata={"description": "masked (王*)"})
    confirmed_on = ma.fields.Date(required=True)
    hours = ma.fields.Float(allow_none=True)


class StationSchema(ma.Schema):
    """Everything the grid's station publishes."""

    grid = ma.fields.Nested(StationGridSchema, required=True)
    community = ma.fields.Nested(StationAreaSchema, allow_none=True)
    street = ma.fields.Nested(StationAreaSchema, allow_none=True)
    team = ma.fields.List(ma.fields.Nested(StationTeamPlaceSchema), required=True)
    units = ma.fields.List(ma.fields.Nested(StationUnitSchema), required=True)
    service_items = ma.fields.List(ma.fields.Nested(StationServiceItemSchema), required=True)
    members = ma.fields.Nested(StationMembersSchema, required=True)
    wishes_done = ma.fields.List(ma.fields.Nested(StationWishSchema), required=True)
    supervision_phone = ma.fields.String(allow_none=True)
    url = ma.fields.String(required=True, metadata={"description": "the station's public page"})
    as_of = ma.fields.Date(required=True, metadata={"description": "the district's date of these figures"})


class BadgeGridSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class BadgeCheckSchema(ma.Schema):
    """What anyone may learn from a badge's serial."""

    serial = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["valid", "revoked"]})
    holder = ma.fields.String(required=True, metadata={"description": "masked (王*)"})
    role = ma.fields.String(required=True, metadata={"description": "the team role, or the member's duties"})
    grid = ma.fields.Nested(BadgeGridSchema, required=True)
    unit = ma.fields.String(allow_none=True)
    issued_on = ma.fields.Date(required=True)
    revoked_at = UtcDateTime(allow_none=True)
    verify_url = ma.fields.String(required=True)


class UnknownBadgeSchema(ErrorSchema):
    """A serial never issued: the API's error, plus the status the check page shows."""

    status = ma.fields.String(required=True, metadata={"enum": ["unknown"]})
    serial = ma.fields.String(
        required=True, metadata={"description": "the serial asked about (≤ 40 characters)"}
    )


@bp.route("/grids/<code>")
@bp.response(200, StationSchema)
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[])
def get_station(code):
    """Public, no token: the grid's station; 404 for an unknown code or an area that is not a grid."""
    info = stations.station(code)
    if info is None:
        api_abort(404, "not_found", _("No grid has this code."))
    return info


@bp.route("/badges/<serial>")
@bp.response(200, BadgeCheckSchema)
@bp.alt_response(404, schema=UnknownBadgeSchema, description="No badge with this serial was issued.")
@bp.doc(security=[])
def check_badge(serial):
    """Public, no token: is this work badge in force? `valid` or `revoked`, or 404 `{"status": "unknown"}`."""
    info = badges.verification(serial)
    if info is None:
        message = _("No work badge with this serial has been issued.")
        response = jsonify(
            status="unknown", serial=serial[:40], error={"code": "not_found", "message": message}
        )
        response.status_code = 404
        response.headers["Cache-Control"] = "no-store"
        return response
    return info, 200, {"Cache-Control": "no-store"}
