"""The back-office page for importing 责任田 (household → member) from XLSX/CSV, with its per-row report."""

from flask_babel import gettext as _

from admin.base import AREA_STAFF
from admin.imports import ImportView
from app.services.responsibility_import import import_assignments, report_xlsx, template_xlsx


class ResponsibilityImportView(ImportView):
    """Staff put households into members' 责任田 in bulk, within their own area."""

    view_roles = AREA_STAFF
    template_name = "admin/responsibility_import.html"
    template_download = "责任田导入模板.xlsx"
    done_endpoint = "household_assignment.index_view"
    importer = staticmethod(import_assignments)
    template_xlsx = staticmethod(template_xlsx)
    report_xlsx = staticmethod(report_xlsx)

    def conflict_message(self):
        return _("Nothing was imported: someone changed these households meanwhile. Upload the file again.")

    def done_message(self, result):
        return _(
            "%(n)d households assigned (%(moved)d moved from another member).",
            n=result.imported,
            moved=result.moved,
        )
