"""Coverage (包抓) in the back office: a unit's covered grids (listed on the unit's page, edited here, scoped to
the staff's area) and their import from XLSX/CSV. Rules live in app/services/coverage.py."""

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.validators import ValidationError

from admin.base import MANAGERS, OneGridModelView
from admin.imports import ImportView
from admin.labels import LABELS
from admin.scoping import RowFilter, ScopedAjaxLoader, area_filters
from app.extensions import db
from app.ids import parse_id
from app.models import Unit
from app.models.coverage import UnitCoverage
from app.services.coverage import coverage_problems
from app.services.coverage_import import import_coverage, report_xlsx, template_xlsx
from app.services.scope import row_in_scope


class UnitCoverageAdmin(OneGridModelView):
    """Which grids each unit covers, and since when; reached from the unit's page."""

    column_list = ("unit", "grid", "since", "until", "note")
    column_labels = {**LABELS, "since": _l("Covered since"), "until": _l("Covered until")}
    column_sortable_list = ("grid_code", "since", "until")
    column_default_sort = "grid_code"
    form_columns = ("unit", "grid", "since", "until", "note")
    form_area_levels = {"grid": "grid"}
    eager_paths = ("unit", "grid.parent")

    def __init__(self, *args, **kwargs):
        self.column_filters = area_filters(UnitCoverage.grid_code) + [
            RowFilter(UnitCoverage.unit_id, _l("Check-in unit"), select(Unit).order_by(Unit.name))
        ]
        self.form_ajax_refs = {"unit": ScopedAjaxLoader("unit", Unit, fields=["name"], page_size=20)}
        super().__init__(*args, **kwargs)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        unit_id = parse_id(request.args.get("unit_id"))
        unit = db.session.get(Unit, unit_id) if unit_id is not None and request.method == "GET" else None
        if unit is not None and row_in_scope(current_user, unit):
            form.unit.data = unit  # "Add a covered grid" from the unit's page
        return form

    def before_save(self, form, model, is_created):
        with db.session.no_autoflush:
            problems = coverage_problems(
                model.unit, model.grid_code, model.since, model.until, None if is_created else model.id
            )
        if problems:
            raise ValidationError(" ".join(problems.values()))


class CoverageImportView(ImportView):
    """Staff upload which units cover which grids of their area; a dry run checks without writing."""

    view_roles = MANAGERS
    template_name = "admin/coverage_import.html"
    template_download = "包抓导入模板.xlsx"
    report_download = "coverage-errors.xlsx"
    done_endpoint = "unitcoverage.index_view"
    offers_dry_run = True
    importer = staticmethod(import_coverage)
    template_xlsx = staticmethod(template_xlsx)
    report_xlsx = staticmethod(report_xlsx)

    def conflict_message(self):
        return _("Nothing was imported: upload the file again.")

    def done_message(self, result):
        return _("%(n)d coverage rows imported.", n=result.imported)


BY_LABELS = {"street": _l("Street"), "community": _l("Community"), "grid": _l("Grid")}


def coverage_section(figures: dict) -> dict:
    """The dashboard's coverage chart and table: grids, covered grids and the rate, per area and overall."""
    fields = [("grids", _l("Grids")), ("covered", _l("Covered")), ("rate", _l("Coverage (%)"))]
    total = figures["total"]
    rate = round(100 * total["covered"] / total["grids"], 1) if total["grids"] else None
    rows = [
        {"key": r["code"], "label": r["name"], "values": {f: r[f] for f, _h in fields}}
        for r in figures["rows"]
    ]
    rows.append({"key": "total", "label": _("All"), "values": {**total, "rate": rate}})
    return {
        "key": "coverage",
        "title": _("Grids covered by check-in units (包抓) by %(level)s", level=BY_LABELS[figures["by"]]),
        "chart": "percent",
        "chart_field": "rate",
        "fields": fields,
        "rows": rows,
        "note": _("Grids with at least one check-in unit covering them today ÷ grids."),
    }
