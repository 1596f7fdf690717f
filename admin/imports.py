"""The back-office page every bulk import shares: upload form, dry run / good rows only, template download and
the per-row error report. Each kind names its service calls, its template and its messages."""

import base64
import io
from collections.abc import Callable

from flask import current_app, flash, redirect, request, send_file
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from admin.base import AccessMixin
from app.extensions import db
from app.services.import_base import ImportRefused
from app.services.tabular import XLSX_MIME

SHOWN_ERRORS = 200  # rows of the report shown on the page; the XLSX holds them all


class ImportView(AccessMixin, BaseView):
    """Upload a file of one kind; every row is checked by the service, which writes and audits the good ones."""

    template_name: str  # extends admin/import_base.html
    template_download: str  # the XLSX template's file name
    report_download = "import-errors.xlsx"
    done_endpoint: str  # where a clean import leads: the list of what was imported
    offers_dry_run = False

    # the kind's service functions: the import (flushes, never commits), the template, the error report
    importer: Callable  # (filename, data, actor, good_rows_only=, ip=[, dry_run=]) → result
    template_xlsx: Callable[[], bytes]
    report_xlsx: Callable[[object], bytes]

    def conflict_message(self) -> str:
        """Shown when the database refused the rows because someone changed them since the check."""
        raise NotImplementedError

    def done_message(self, result) -> str:
        raise NotImplementedError

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self._page()
        upload = request.files.get("file")
        options = {"good_rows_only": request.form.get("good_rows_only") == "1"}
        if self.offers_dry_run:
            options["dry_run"] = request.form.get("dry_run") == "1"
        if upload is None or not upload.filename:
            return self._page(error=_("Choose a file to upload."), **options)
        # read one byte past the limit: enough to know the file is too big without holding all of it
        data = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        try:
            result = self.importer(upload.filename, data, current_user, ip=request.remote_addr, **options)
            db.session.commit()
        except ImportRefused as exc:
            db.session.rollback()
            return self._page(error=str(exc), filename=upload.filename, **options)
        except IntegrityError:
            db.session.rollback()
            return self._page(error=self.conflict_message(), filename=upload.filename, **options)
        if not result.errors and not result.dry_run:
            flash(self.done_message(result), "success")
            return redirect(self.get_url(self.done_endpoint))
        return self._page(
            result=result,
            report=base64.b64encode(self.report_xlsx(result)).decode("ascii") if result.errors else None,
            filename=upload.filename,
            shown=result.errors[:SHOWN_ERRORS],
            **options,
        )

    @expose("/template.xlsx")
    def template(self):
        return send_file(
            io.BytesIO(self.template_xlsx()),
            mimetype=XLSX_MIME,
            as_attachment=True,
            download_name=self.template_download,
        )

    def _page(self, **context):
        context.setdefault("good_rows_only", False)
        context.setdefault("dry_run", False)
        return self.render(
            self.template_name,
            xlsx_mime=XLSX_MIME,
            max_rows=f"{current_app.config['IMPORT_MAX_ROWS']:,}",
            max_mb=f"{current_app.config['IMPORT_MAX_BYTES'] / 1_048_576:g}",
            done_endpoint=self.done_endpoint,
            report_download=self.report_download,
            offers_dry_run=self.offers_dry_run,
            **context,
        )
