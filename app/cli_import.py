"""Command line for bulk imports: `flask --app wsgi import residents FILE.xlsx|.csv`."""

import os

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from app.services.imports import ImportRefused, import_residents, report_xlsx, template_xlsx

import_cli = AppGroup("import", help="Import records from XLSX or CSV files.")


@import_cli.command("residents")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--as",
    "username",
    help="Import as this staff user: only rows in their area are accepted, "
    "and the audit log names them. Without it: any grid, audited as 'cli'.",
)
@click.option(
    "--good-rows-only",
    is_flag=True,
    help="Import the rows without errors and report the rest (by default one bad row stops the whole file).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the per-row error report to this .xlsx file.",
)
def import_residents_command(path, username, good_rows_only, report_path):
    """Import residents from an .xlsx or .csv file (UTF-8 or GBK) laid out as the template."""
    actor = None
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None or not actor.active:
            raise click.ClickException(f"No active user named {username}.")
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        result = import_residents(os.path.basename(path), data, actor, good_rows_only=good_rows_only)
        db.session.commit()
    except ImportRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    except IntegrityError as exc:  # someone recorded one of these ID numbers since the check
        db.session.rollback()
        raise click.ClickException(
            "Nothing imported: the database refused a row (a duplicate recorded "
            "meanwhile?). Run the import again."
        ) from exc
    for error in result.errors:
        click.echo(f"row {error.row}\t{error.column}\t{error.value}\t{error.message}", err=True)
    if result.ignored_columns:
        click.echo("Ignored columns: " + ", ".join(result.ignored_columns), err=True)
    if report_path and result.errors:
        with open(report_path, "wb") as fh:
            fh.write(report_xlsx(result))
        click.echo(f"Error report written to {report_path}.", err=True)
    summary = (
        f"{result.total} rows read, {result.imported} residents imported, "
        f"{result.refused_rows} rows refused, {result.households_created} households created."
    )
    if result.errors and not result.imported:
        raise click.ClickException(
            summary
            + " Nothing was imported; fix the rows above"
            + ("" if good_rows_only else " or use --good-rows-only")
            + "."
        )
    click.echo(summary)


@import_cli.command("template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def write_template_command(path):
    """Write the residents' import template (.xlsx, Chinese headers) to PATH."""
    with open(path, "wb") as fh:
        fh.write(template_xlsx())
    click.echo(f"Template written to {path}.")
