"""The back-office page for bulk imports of residents: upload, per-row error report, template download."""

from flask_babel import gettext as _

from admin.base import AREA_STAFF
from admin.imports import ImportView
from app.services.imports import import_residents, report_xlsx, template_xlsx


class ResidentImportView(ImportView):
    """Staff upload residents in bulk into the grids of their own area."""

    view_roles = AREA_STAFF
    template_name = "admin/resident_import.html"
    template_download = "居民导入模板.xlsx"
    done_endpoint = "resident.index_view"
    importer = staticmethod(import_residents)
    template_xlsx = staticmethod(template_xlsx)
    report_xlsx = staticmethod(report_xlsx)

    def conflict_message(self):
        return _(
            "Nothing was imported: another import recorded some of these residents "
            "meanwhile. Upload the file again."
        )

    def done_message(self, result):
        return _("%(n)d residents imported.", n=result.imported)
