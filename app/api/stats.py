"""Counts of the records in the caller's scope."""

import marshmallow as ma

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.models.choices import STAFF_ROLES, Role
from app.services.stats import scope_counts

bp = api_blueprint("stats", __name__, "Counts of records in the caller's scope.")

STATS_ROLES = STAFF_ROLES + (Role.DEPARTMENT, Role.INTEGRATION)  # not members or residents


class CoverageSchema(ma.Schema):
    """Coverage (包抓) today: the grids of the scope, and those at least one check-in unit covers."""

    grids = ma.fields.Integer(required=True)
    covered = ma.fields.Integer(required=True)


class StatsSchema(ma.Schema):
    """How many of each record the caller's scope holds."""

    residents = ma.fields.Integer(required=True)
    households = ma.fields.Integer(required=True)
    rooms = ma.fields.Integer(required=True)
    buildings = ma.fields.Integer(required=True)
    enterprises = ma.fields.Integer(required=True)
    facilities = ma.fields.Integer(required=True)
    grids = ma.fields.Integer(required=True)
    communities = ma.fields.Integer()
    members = ma.fields.Integer(required=True)
    units = ma.fields.Integer()
    events = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "events by status"},
    )
    coverage = ma.fields.Nested(
        CoverageSchema,
        required=True,
        metadata={"description": "grids covered today by at least one check-in unit, of those in scope"},
    )
    wishes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        required=True,
        metadata={"description": "micro-wishes by status"},
    )


@bp.route("/stats")
@token_required(*STATS_ROLES)
@bp.response(200, StatsSchema)
def get_stats():
    """Residents, households, rooms, … in the caller's scope; events and wishes by status; grid coverage."""
    return scope_counts(current_api_user())
