"""Command-line interface: `flask --app wsgi users create …`, `users set-password …`, `seed demo`."""

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models.choices import Role
from app.services.users import UserError, create_user, set_password

users_cli = AppGroup("users", help="Manage user accounts.")
seed_cli = AppGroup("seed", help="Load demo or synthetic data.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="The user's role.")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option(
    "--area", "area_code", help="Scope of staff roles; check-in grid of a member; home grid of a resident."
)
@click.option("--department", "department_code", help="The department of a department user.")
@click.option("--name", help="Display name (显示名).")
def create_user_command(username, role, password, area_code, department_code, name):
    """Create a user, with the member or resident profile its role needs."""
    try:
        user = create_user(
            username, role, password, area_code=area_code, department_code=department_code, name=name
        )
    except UserError as exc:
        db.session.rollback()
        option = f" (--{exc.field})" if exc.field in ("area", "department") else ""  # the option to add
        raise click.ClickException(str(exc) + option) from exc
    db.session.commit()
    click.echo(
        f"Created user {user.username} ({user.role}{', ' + user.area_code if user.area_code else ''})."
    )


@users_cli.command("set-password")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 8 characters (asked for when left out).",
)
def set_password_command(username, password):
    """Give a user a new password (they forgot theirs); ends all their sessions and API tokens."""
    from app.models import User

    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise click.ClickException(f"No user named {username}.")
    try:
        ended = set_password(user, password)
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"New password set for {user.username}; {ended} session(s) and API token(s) ended.")


@seed_cli.command("demo")
def seed_demo_command():
    """Create the demo district and its demo accounts (safe to run again)."""
    from app.models import Area, Resident, User
    from app.services.demo import seed_demo

    seed_demo()
    db.session.commit()
    counts = {
        "areas": db.session.scalar(select(func.count()).select_from(Area)),
        "residents": db.session.scalar(select(func.count()).select_from(Resident)),
        "users": db.session.scalar(select(func.count()).select_from(User)),
    }
    click.echo("Demo district ready: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def register_commands(app: Flask) -> None:
    from app.cli_scale import scale_command

    seed_cli.add_command(scale_command)  # `seed scale`: the synthetic district at full size
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    from app.cli_import import import_cli

    app.cli.add_command(import_cli)
