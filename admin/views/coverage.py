"""Coverage (包抓) in the back office: a unit's covered grids (listed on the unit's page, edited here, scoped to
the staff's area) and their import from XLSX/CSV. Rules live in app/services/coverage.py."""

import base64
import io

from flask import current_app, flash, redirect, request, send_file
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.validators import ValidationError

from admin.base import MANAGERS, AccessMixin, OneGridModelView
from admin.labels import LABELS
from admin.scoping import RowFilter, ScopedAjaxLoader, area_filters
from app.extensions import db
from app.ids import parse_id
from app.models import Unit
from app.models.coverage import UnitCoverage
from app.services.coverage import coverage_problems
from app.services.coverage_import import ImportRefused, import_coverage, report_xlsx, template_xlsx
from app.services.scope import row_in_scope
from app.services.tabular import XLSX_MIME

SHOWN_ERRORS = 200


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


class CoverageImportView(AccessMixin, BaseView):
    """Staff upload which units cover which grids of their area; a dry run checks without writing."""

    view_roles = MANAGERS

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self._page()
        upload = request.files.get("file")
        options = {
            "good_rows_only": request.form.get("good_rows_only") == "1",
            "dry_run": request.form.get("dry_run") == "1",
        }
        if upload is None or not upload.filename:
            return self._page(error=_("Choose a file to upload."), **options)
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        try:
            result = import_coverage(upload.filename, data, current_user, ip=request.remote_addr, **options)
            db.session.commit()
        except ImportRefused as exc:
            db.session.rollback()
            return self._page(error=str(exc), filename=upload.filename, **options)
        except IntegrityError:
            db.session.rollback()
            return self._page(error=_("Nothing was imported: upload the file again."), **options)
        if not result.errors and not result.dry_run:
            flash(_("%(n)d coverage rows imported.", n=result.imported), "success")
            return redirect(self.get_url("unitcoverage.index_view"))
        return self._page(
            result=result,
            report=base64.b64encode(report_xlsx(result)).decode("ascii") if result.errors else None,
            filename=upload.filename,
            shown=result.errors[:SHOWN_ERRORS],
            **options,
        )

    @expose("/template.xlsx")
    def template(self):
        return send_file(
            io.BytesIO(template_xlsx()),
            mimetype=XLSX_MIME,
            as_attachment=True,
            download_name="包抓导入模板.xlsx",
        )

    def _page(self, **context):
        context.setdefault("good_rows_only", False)
        context.setdefault("dry_run", False)
        return self.render(
            "admin/coverage_import.html",
            xlsx_mime=XLSX_MIME,
            max_rows=f"{current_app.config['IMPORT_MAX_ROWS']:,}",
            max_mb=f"{current_app.config['IMPORT_MAX_BYTES'] / 1_048_576:g}",
            **context,
        )


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
