"""What every bulk import shares: reading the file within the limits, the row loop with its per-row errors,
lookups in chunks of values, the audit row, the template and the error report.

Each kind (residents, 责任田, coverage) is a `RowImport` naming its `Layout` (columns and accepted spellings)
and its rules: who may import, what it loads once per file, how one row is checked and how the good rows are
written. A file with a bad row imports nothing unless the good rows alone are asked for; a dry run writes nothing.
"""

import types
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models.choices import STAFF_ROLES
from app.services import audit
from app.services.masking import MASKERS
from app.services.tabular import TableError, cell_text, find_header, raw_rows, write_xlsx

CHUNK = 500  # values per IN (…) list: well under SQLite's and PostgreSQL's parameter limits


class ImportRefused(ValueError):
    """The file as a whole is refused (unreadable, too big, no headers, not allowed); nothing was imported."""


@dataclass
class RowError:
    row: int  # the spreadsheet's row number, as the person sees it in Excel
    column: str
    message: str
    value: str = ""


@dataclass
class ImportResult:
    total: int = 0  # data rows read (blank rows not counted)
    imported: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def refused_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass(frozen=True)
class Layout:
    """The columns of a kind's file: their keys and template headers (the file format, never translated)."""

    headers: dict[str, str]  # key → the template's header, in the template's order
    aliases: dict[str, str]  # every accepted spelling of a header (the header too) → key
    required: tuple[str, ...]  # keys of the columns the header row must name, in the template's order
    raw: tuple[str, ...] = ()  # keys whose cell is also kept as read, under "_raw_<key>"


def chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def in_chunks(query, column, values):
    for chunk in chunks(values):
        yield from db.session.scalars(query.where(column.in_(chunk)))


def rows_in_chunks(query, column, values):
    for chunk in chunks(values):
        yield from db.session.execute(query.where(column.in_(chunk)))


def read_table(filename: str, data: bytes, layout: Layout):
    """([(row number, {key: text})], ignored headers) of an upload, within the configured limits."""
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
    if not data:
        raise ImportRefused(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImportRefused(
            _(
                "The file is larger than %(mb)s MB; split it into smaller files.",
                mb=f"{max_bytes / 1_048_576:g}",
            )
        )
    try:
        # an XLSX is a zip: bound what it may unpack to, or a small file could fill the memory
        rows = iter(raw_rows(filename, data, max_unpacked=10 * max_bytes))
        required = [layout.headers[k] for k in layout.required]
        header_row, cells = find_header(_canonical(rows, layout), set(layout.headers.values()), set(required))
        if header_row is None:
            raise ImportRefused(
                _(
                    "No header row found: the first rows must name the columns %(columns)s "
                    "(download the template).",
                    columns="、".join(required),
                )
            )
        keys = {header: key for key, header in layout.headers.items()}
        positions = {i: keys[c] for i, c in enumerate(cells) if c in keys}
        ignored = [c for c in cells if c and c not in keys]
        raw = {key: i for i, key in positions.items() if key in layout.raw}
        parsed = []
        for number, row in enumerate(rows, start=header_row + 1):
            values = {key: cell_text(row[i]) if i < len(row) else "" for i, key in positions.items()}
            if not any(values.values()):
                continue  # blank lines and formatted-but-empty cells are not rows
            for key, i in raw.items():  # e.g. Excel may have made an ID number a number
                values[f"_raw_{key}"] = row[i] if i < len(row) else None
            if len(parsed) >= max_rows:
                raise ImportRefused(
                    _(
                        "The file has more than %(n)s rows; split it into files of at most %(n)s rows.",
                        n=f"{max_rows:,}",
                    )
                )
            parsed.append((number, values))
    except TableError as exc:
        raise ImportRefused(str(exc)) from exc
    if not parsed:
        raise ImportRefused(_("The file has headers but no rows to import."))
    return parsed, ignored


def _canonical(rows, layout: Layout):
    """Header aliases mapped to the template's header, so the header search sees one spelling."""
    for row in rows:
        yield [
            layout.headers[layout.aliases[c.strip()]]
            if isinstance(c, str) and c.strip() in layout.aliases
            else c
            for c in row
        ]


class Row:
    """One data row being checked: its values and the errors found, each naming the column's header."""

    def __init__(self, number: int, values: dict, headers: dict[str, str]):
        self.number, self.values, self.headers = number, values, headers
        self.errors: list[RowError] = []

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def fail(self, key: str, message: str) -> None:
        """An error on the row's column `key`; the value is shown masked when it is personal data."""
        shown, masker = self.get(key), MASKERS.get(key)
        self.errors.append(
            RowError(self.number, self.headers[key], message, masker(shown) if masker and shown else shown)
        )

    def check_text(self, limits: dict[str, int], required) -> bool:
        """Every column in `limits`: no NUL, present when required, not too long. True when all are fine."""
        for key, limit in limits.items():
            text = self.get(key)
            if "\x00" in text:
                self.fail(key, _("Contains a character that is not allowed."))
            elif key in required and not text:
                self.fail(key, _("Required."))
            elif len(text) > limit:
                self.fail(key, _("At most %(n)d characters.", n=limit))
        return not self.errors


class RowImport:
    """One import of a file: every row checked first, then the good ones written (or none), then audited."""

    layout: Layout
    model = None  # what the audit row names
    result_class = ImportResult
    staff_only: str  # (lazy) why someone who is not staff may not import this kind
    command_line_anywhere = False  # the command line without --as (actor None) imports anywhere

    def __init__(self, actor, good_rows_only: bool = False, dry_run: bool = False, ip: str | None = None):
        self.actor, self.good_rows_only, self.dry_run, self.ip = actor, good_rows_only, dry_run, ip
        self.result = self.result_class(dry_run=dry_run)

    def refusal(self) -> str | None:
        """Why the actor may not import this kind at all; None when they may. Staff import within their area."""
        actor = self.actor
        if actor is None:
            return None if self.command_line_anywhere else str(self.staff_only)
        return None if actor.role in STAFF_ROLES else str(self.staff_only)

    def load(self, rows) -> None:
        """What the checks need from the database, loaded once for the whole file."""

    def check(self, row: Row):
        """What to write for a row (recording its errors with `row.fail`); ignored when the row has errors."""
        raise NotImplementedError

    def write(self, good: list) -> None:
        """Writes the good rows and counts them in the result."""
        raise NotImplementedError

    def details(self, filename: str) -> dict:
        result = self.result
        return {
            "file": filename,
            "rows": result.total,
            "imported": result.imported,
            "refused": result.refused_rows,
        }

    def run(self, filename: str, data: bytes):
        """Check every row; write them all (or the good ones when asked; none on a dry run). Flushes only."""
        refusal = self.refusal()
        if refusal is not None:
            raise ImportRefused(refusal)
        rows, ignored = read_table(filename, data, self.layout)
        result = self.result
        result.total, result.ignored_columns = len(rows), ignored
        self.load(rows)
        good = []
        for number, values in rows:
            row = Row(number, values, self.layout.headers)
            item = self.check(row)
            if row.errors:
                result.errors.extend(row.errors)
            else:
                good.append(item)
        if self.dry_run or (result.errors and not self.good_rows_only) or not good:
            return result
        self.write(good)
        actor = self.actor
        audit.record_bulk(
            actor or types.SimpleNamespace(id=None, username="cli"),
            "import",
            self.model,
            getattr(actor, "scope_prefix", None) or None,
            self.details(filename),
            ip=self.ip,
        )
        db.session.flush()
        return result


def template_xlsx(sheet: str, layout: Layout, notes: dict, text_keys) -> bytes:
    """The import template: the headers on the first sheet, what each column takes on the second."""
    keys = list(layout.headers)
    return write_xlsx(
        [
            (sheet, list(layout.headers.values()), []),
            ("说明", [_("Column"), _("What to enter")], [[layout.headers[k], str(notes[k])] for k in keys]),
        ],
        {sheet: {keys.index(k) for k in text_keys}},
    )


def report_xlsx(result: ImportResult) -> bytes:
    """The per-row error report as a workbook: row, column, value (personal data masked), message."""
    headers = [_("Row"), _("Column"), _("Value"), _("Problem")]
    return write_xlsx(
        [(_("Errors"), headers, [[e.row, e.column, e.value, e.message] for e in result.errors])]
    )
