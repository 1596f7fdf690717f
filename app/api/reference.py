"""Reference data for clients: areas (in the caller's scope), departments and the matter list."""

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api import api_blueprint
from app.api.auth import current_api_user, token_required
from app.api.pagination import PageQuerySchema, page_schema, paginate
from app.models import Department, Matter
from app.models.choices import AREA_CODE_LENGTH, AREA_PARENT_LEVEL, MatterCategory
from app.services.scope import apply_scope, areas_in_scope, grid_levels

bp = api_blueprint("reference", __name__, "Reference data: areas, departments and the matter list.")

AREA_CODE_PATTERN = r"^\d{6}(\d{3}){0,3}$"  # 6, 9, 12 or 15 digits


def _parent_code(area) -> str | None:
    # codes are hierarchical, so the parent's code is a prefix: no query per row
    parent_level = AREA_PARENT_LEVEL.get(area.level)
    return area.code[: AREA_CODE_LENGTH[parent_level]] if parent_level else None


class AreaQuerySchema(PageQuerySchema):
    """Filters of the area list."""

    level = ma.fields.String(
        validate=ma.validate.OneOf(grid_levels(), error=_l("Choose one of: {choices}.")),
        metadata={"description": "street, community or grid"},
    )
    parent = ma.fields.String(
        validate=ma.validate.Regexp(AREA_CODE_PATTERN, error=_l("An area code has 6, 9, 12 or 15 digits.")),
        metadata={"description": "only areas below this area code"},
    )


class AreaSchema(ma.Schema):
    """A district, street, community or grid."""

    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    parent_code = ma.fields.Function(_parent_code, metadata={"type": "string", "nullable": True})


class DepartmentSchema(ma.Schema):
    """A functional department events can be dispatched to."""

    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class MatterQuerySchema(PageQuerySchema):
    """Filters of the matter list."""

    category = ma.fields.String(
        validate=ma.validate.OneOf([c.value for c in MatterCategory], error=_l("Choose one of: {choices}."))
    )
    admitted = ma.fields.Boolean(
        metadata={"description": "only admitted (true) or not admitted (false) matters"}
    )


class MatterSchema(ma.Schema):
    """An entry of the matter list: a kind of problem and the department answering for it."""

    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    department = ma.fields.Pluck(
        DepartmentSchema, "code", allow_none=True, metadata={"description": "department code"}
    )
    admitted = ma.fields.Boolean(required=True)


@bp.route("/areas")
@token_required()
@bp.arguments(AreaQuerySchema, location="query")
@bp.response(200, page_schema(AreaSchema))
def list_areas(query):
    """Areas in the caller's scope, optionally of one level and below one area."""
    areas = areas_in_scope(current_api_user(), query.get("level"), query.get("parent"))
    return paginate(areas, query)


@bp.route("/departments")
@token_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_schema(DepartmentSchema))
def list_departments(query):
    """Active functional departments (district-wide reference data)."""
    departments = select(Department).where(Department.active).order_by(Department.code)
    return paginate(apply_scope(departments, Department, current_api_user()), query)


@bp.route("/matters")
@token_required()
@bp.arguments(MatterQuerySchema, location="query")
@bp.response(200, page_schema(MatterSchema))
def list_matters(query):
    """The matter list, with each matter's department and whether it is admitted."""
    matters = select(Matter).options(selectinload(Matter.department)).order_by(Matter.code)
    if "category" in query:
        matters = matters.where(Matter.category == query["category"])
    if "admitted" in query:
        matters = matters.where(Matter.admitted == query["admitted"])
    return paginate(apply_scope(matters, Matter, current_api_user()), query)
