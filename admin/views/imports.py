"""The back-office page for bulk imports of residents: upload, per-row error report, template download."""

import base64
import io

from flask import current_app, flash, redirect, request, send_file
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from admin.base import AREA_STAFF, AccessMixin
from app.extensions import db
from app.services.imports import ImportRefused, import_residents, report_xlsx, template_xlsx
from app.services.tabular import XLSX_MIME

SHOWN_ERRORS = 200  # rows of the report shown on the page; the XLSX holds them all


class ResidentImportView(AccessMixin, BaseView):
    """Staff upload residents in bulk into the grids of their own area."""

    view_roles = AREA_STAFF

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self._page()
        upload = request.files.get("file")
        good_rows_only = request.form.get("good_rows_only") == "1"
        if upload is None or not upload.filename:
            return self._page(error=_("Choose a file to upload."), good_rows_only=good_rows_only)
        # read one byte past the limit: enough to know the file is too big without holding all of it
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        try:
            result = import_residents(
                upload.filename, data, current_user, good_rows_only=good_rows_only, ip=request.remote_addr
            )
            db.session.commit()
        except ImportRefused as exc:
            db.session.rollback()
            return self._page(error=str(exc), good_rows_only=good_rows_only, filename=upload.filename)
        except IntegrityError:
            db.session.rollback()
            return self._page(
                error=_(
                    "Nothing was imported: another import recorded some of these residents "
                    "meanwhile. Upload the file again."
                ),
                filename=upload.filename,
            )
        if not result.errors:
            flash(_("%(n)d residents imported.", n=result.imported), "success")
            return redirect(self.get_url("resident.index_view"))
        report = base64.b64encode(report_xlsx(result)).decode("ascii")
        return self._page(
            result=result,
            report=report,
            filename=upload.filename,
            good_rows_only=good_rows_only,
            shown=result.errors[:SHOWN_ERRORS],
        )

    @expose("/template.xlsx")
    def template(self):
        return send_file(
            io.BytesIO(template_xlsx()),
            mimetype=XLSX_MIME,
            as_attachment=True,
            download_name="居民导入模板.xlsx",
        )

    def _page(self, **context):
        context.setdefault("good_rows_only", False)
        return self.render(
            "admin/resident_import.html",
            xlsx_mime=XLSX_MIME,
            max_rows=f"{current_app.config['IMPORT_MAX_ROWS']:,}",
            max_mb=f"{current_app.config['IMPORT_MAX_BYTES'] / 1_048_576:g}",
            **context,
        )
