"""The back-office page for importing 责任田 (household → member) from XLSX/CSV, with its per-row report."""

import base64
import io

from flask import current_app, flash, redirect, request, send_file
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from admin.base import AREA_STAFF, AccessMixin
from app.extensions import db
from app.services.imports import ImportRefused
from app.services.responsibility_import import import_assignments, report_xlsx, template_xlsx
from app.services.tabular import XLSX_MIME

SHOWN_ERRORS = 200


class ResponsibilityImportView(AccessMixin, BaseView):
    """Staff put households into members' 责任田 in bulk, within their own area."""

    view_roles = AREA_STAFF

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self._page()
        upload = request.files.get("file")
        good_rows_only = request.form.get("good_rows_only") == "1"
        if upload is None or not upload.filename:
            return self._page(error=_("Choose a file to upload."), good_rows_only=good_rows_only)
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        try:
            result = import_assignments(
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
                    "Nothing was imported: someone changed these households meanwhile. Upload the file again."
                ),
                filename=upload.filename,
            )
        if not result.errors:
            flash(
                _(
                    "%(n)d households assigned (%(moved)d moved from another member).",
                    n=result.imported,
                    moved=result.moved,
                ),
                "success",
            )
            return redirect(self.get_url("household_assignment.index_view"))
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
            download_name="责任田导入模板.xlsx",
        )

    def _page(self, **context):
        context.setdefault("good_rows_only", False)
        return self.render(
            "admin/responsibility_import.html",
            xlsx_mime=XLSX_MIME,
            max_rows=f"{current_app.config['IMPORT_MAX_ROWS']:,}",
            max_mb=f"{current_app.config['IMPORT_MAX_BYTES'] / 1_048_576:g}",
            **context,
        )
