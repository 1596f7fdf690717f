"""`flask jobs …`: the RQ worker, the periodic scheduler, and running the relay or a periodic task once."""

import threading

import click
from flask import current_app
from flask.cli import AppGroup
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.extensions import db
from app.jobs import PERIODIC
from app.jobs.queue import get_queue
from app.jobs.scheduler import run_periodic, run_scheduler

jobs_cli = AppGroup("jobs", help="Background jobs: worker, scheduler, relay.")


def _queue_or_exit():
    queue = get_queue()
    if queue is None:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    return queue


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--with-scheduler", is_flag=True, help="Also queue the periodic tasks (one scheduler is enough)."
)
@click.option("--name", default=None, help="Worker name (default: host and pid).")
def worker_command(burst: bool, with_scheduler: bool, name: str | None) -> None:
    """Run jobs from the queue inside this app (one process; start several for more throughput)."""
    queue = _queue_or_exit()
    app = current_app._get_current_object()
    stop = threading.Event()
    if with_scheduler:
        threading.Thread(
            target=run_scheduler, args=(app, stop), name="onegrid-scheduler", daemon=True
        ).start()
    # SimpleWorker runs each job in this process, inside the app context the CLI pushed: no fork and
    # no new interpreter per job (each job removes its database session when it ends)
    worker = SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer, name=name)
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        stop.set()
        db.session.remove()


@jobs_cli.command("scheduler")
def scheduler_command() -> None:
    """Queue the periodic tasks when they are due (run one, or several: they do not double up)."""
    _queue_or_exit()
    click.echo("periodic tasks: " + ", ".join(f"{t.name} every {t.seconds} s" for t in PERIODIC.values()))
    stop = threading.Event()
    try:
        run_scheduler(current_app._get_current_object(), stop)
    except KeyboardInterrupt:
        stop.set()


@jobs_cli.command("run")
@click.argument("name")
def run_command(name: str) -> None:
    """Run one periodic task now, in this process (e.g. `relay_outbox` after an outage)."""
    if name not in PERIODIC:
        raise click.BadParameter(f"choose one of: {', '.join(sorted(PERIODIC))}", param_hint="NAME")
    click.echo(run_periodic(name))
