"""`flask --app wsgi seed scale`: the synthetic district at full size, with a progress bar."""

import time

import click
from flask import current_app

from app.extensions import db
from app.services import scale

SUMMARY = (
    "area",
    "compound",
    "building",
    "room",
    "household",
    "resident",
    "enterprise",
    "facility",
    "unit",
    "member",
    "event",
    "event_step",
    "wish",
    "user",
)


@click.command("scale")
@click.option(
    "--preset",
    type=click.Choice(sorted(scale.PRESETS)),
    default="weicheng",
    show_default=True,
    help="weicheng: Weicheng's published figures; xingping: 18 communities, 176 grids; small: for tests.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Same seed (and --as-of) → identical data."
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day the generated history ends (midnight UTC). Default: today.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="DELETE EVERY ROW of every OneGrid table first (areas, people, events, wishes, users, audit log …).",
)
def scale_command(preset, seed, as_of, replace):
    """Create a synthetic district of the preset's size in an empty database (or one cleared by --replace)."""
    chosen = scale.PRESETS[preset]
    started = time.perf_counter()
    hours = {
        "review": current_app.config["WISH_REVIEW_HOURS"],
        "claim": current_app.config["WISH_CLAIM_HOURS"],
        "resolve": current_app.config["WISH_RESOLVE_HOURS"],
    }
    with click.progressbar(
        length=scale.total_rows(chosen), label=f"seed scale --preset {preset}", show_pos=True
    ) as bar:
        try:
            scale.generate(
                chosen,
                seed=seed,
                as_of=as_of.date() if as_of else None,
                replace=replace,
                advance=bar.update,
                wish_hours=hours,
            )
        except scale.ScaleError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        bar.update(bar.length - bar.pos)
    scale.analyze()
    counts = scale.row_counts()
    click.echo(
        f"{chosen.district_name} ({preset}, seed {seed}) written in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{name} {counts[name]:,}" for name in SUMMARY)
    )
    first_street = f"{chosen.district_code}001"
    click.echo(
        f"Log in with password {scale.PASSWORD}: {scale.ADMIN_USERNAME} (admin), street-{first_street}, "
        f"community-{first_street}001, grid-{first_street}001001, dept-HW, hotline-12345, member-00001 …"
    )
