"""CSV/XLSX exports of back-office lists: capped, Excel-friendly, safe to open, and audited."""

import time
from decimal import Decimal, InvalidOperation

from flask import current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.services import audit

BOM = (
    "\ufeff"  # a byte-order mark makes Excel read a CSV file as UTF-8 (without it, Chinese comes out garbled)
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice read as the start of a formula


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' (OWASP "CSV injection")."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        Decimal(value)  # a negative number is data, not a formula
        return value
    except InvalidOperation:
        return "'" + value


class ExportMixin:
    """For ModelViews: rows as the list shows them (scoped by get_query, personal data masked by the
    export formatters), at most ADMIN_EXPORT_MAX_ROWS of them."""

    @property
    def export_max_rows(self):
        return current_app.config["ADMIN_EXPORT_MAX_ROWS"]

    def get_export_name(self, export_type: str = "csv") -> str:
        # the view's name is Chinese, and the download name must survive secure_filename
        return f"{self.endpoint}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.{export_type}"

    def get_export_value(self, model, name):
        return neutralise_formula(super().get_export_value(model, name))

    def _export_data(self):
        count, data = super()._export_data()
        cap = self.export_max_rows
        if cap and count is not None and count > cap:
            flash(
                _(
                    "The export holds the first %(n)s of %(total)s rows; narrow the list with filters to export "
                    "the rest.",
                    n=f"{cap:,}",
                    total=f"{count:,}",
                ),
                "warning",
            )
        exported = min(count or 0, cap or count or 0)
        current_app.logger.info(
            "export %s by %s: %s of %s rows",
            self.endpoint,
            getattr(current_user, "username", None),
            exported,
            count,
        )
        # personal data leaving the system is audited like a reveal: who, which list, which filters, how many
        audit.record_bulk(
            current_user,
            "export",
            self.model,
            current_user.scope_prefix or None,
            {
                "list": self.endpoint,
                "query": request.query_string.decode()[:500],
                "rows": exported,
                "of": count,
            },
        )
        return count, data

    def _export_csv(self, return_url):
        response = super()._export_csv(return_url)
        # written out now, not streamed: a stream runs after the request's context has ended and closed
        # its database session, when neither the rows nor the user (the locale) can be loaded any more
        response.set_data(BOM + "".join(response.response))
        return self._audited(response)

    def _export_tablib(self, export_type, return_url):
        return self._audited(super()._export_tablib(export_type, return_url))

    @staticmethod
    def _audited(response):
        """Commit the export's audit entry once the file is written (a commit expires the rows, and
        reading them after it would load each again), or drop it when no file came out."""
        if response.status_code == 200:
            db.session.commit()
        else:
            db.session.rollback()
        return response
