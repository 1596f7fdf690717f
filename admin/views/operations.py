"""The operations page (administrators): the queue, the outbox, failed jobs with retry, and the periodic tasks."""

import json
from datetime import timedelta

from flask import abort, current_app, flash, redirect, request
from flask_admin import BaseView, expose
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, or_, select

from admin.base import ADMIN_ONLY, AccessMixin
from admin.display import when
from app.extensions import db
from app.ids import parse_id
from app.jobs import PERIODIC
from app.jobs.outbox import retry_failed
from app.jobs.queue import get_queue, queue_state
from app.jobs.scheduler import run_periodic
from app.models import OutboxMessage
from app.models.base import aware, utcnow
from app.models.jobs import OutboxStatus

LIST_LIMIT = 50  # rows per table on the page: enough to act on, small enough to stay fast
EXCERPT = 600  # characters of a traceback shown (its end: the exception itself)
STATUS_LABELS = {
    OutboxStatus.PENDING: _l("Pending"),
    OutboxStatus.DONE: _l("Done"),
    OutboxStatus.FAILED: _l("Failed"),
}


def outbox_counts() -> dict:
    """{kind: {status: n}} and the totals per status, over the whole outbox."""
    rows = db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.kind, OutboxMessage.status)
        .order_by(OutboxMessage.kind)
    )
    by_kind: dict[str, dict[str, int]] = {}
    totals = {s.value: 0 for s in OutboxStatus}
    for kind, status, count in rows:
        by_kind.setdefault(kind, {s.value: 0 for s in OutboxStatus})[status] = count
        totals[status] += count
    return {"by_kind": by_kind, "totals": totals}


def oldest_pending_age() -> timedelta | None:
    """How long the oldest pending message has waited, or None when nothing is pending."""
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )
    return utcnow() - aware(oldest) if oldest is not None else None


def failed_messages() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .order_by(OutboxMessage.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def stuck_messages() -> list[OutboxMessage]:
    """Pending messages that should have run by now: due, and never pushed or pushed longer ago than the grace."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["JOB_RELAY_GRACE_SECONDS"])
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.run_after <= cutoff,
                or_(OutboxMessage.pushed_at.is_(None), OutboxMessage.pushed_at <= cutoff),
            )
            .order_by(OutboxMessage.id)
            .limit(LIST_LIMIT)
        )
    )


def failed_rq_jobs() -> list[dict] | None:
    """RQ's failed job registry (id, function, arguments, the end of the traceback); None without Redis."""
    queue = get_queue()
    if queue is None:
        return None
    registry = FailedJobRegistry(queue=queue)
    ids = registry.get_job_ids(0, LIST_LIMIT - 1)
    jobs = []
    for job_id, job in zip(
        ids, Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer)
    ):
        if job is None:  # expired meanwhile
            continue
        result = job.latest_result()
        error = (result.exc_string or "") if result is not None else ""
        jobs.append(
            {
                "id": job_id,
                "func": job.func_name,
                "args": json.dumps(list(job.args), ensure_ascii=False),
                "error": error.strip()[-EXCERPT:],
                "ended_at": when(job.ended_at),
            }
        )
    return jobs


class OperationsView(AccessMixin, BaseView):
    """What the background jobs are doing, and the buttons to put failed work back in line."""

    view_roles = ADMIN_ONLY

    @expose("/")
    def index(self):
        queue = queue_state()
        try:
            rq_failed = failed_rq_jobs() if queue.get("ok") else None
        except RedisError:  # Redis went away between the two calls
            rq_failed = None
        age = oldest_pending_age()
        periodic = [
            {
                "name": t.name,
                "every": format_timedelta(timedelta(seconds=t.seconds), threshold=1),
                "seconds": t.seconds,
                "doc": ((t.function.__doc__ or "").strip().splitlines() or [""])[0],
            }
            for t in sorted(PERIODIC.values(), key=lambda t: t.name)
        ]
        return self.render(
            "admin/operations.html",
            queue=queue,
            counts=outbox_counts(),
            statuses=[(s.value, STATUS_LABELS[s]) for s in OutboxStatus],
            oldest_age=format_timedelta(age, threshold=1) if age is not None else None,
            failed=failed_messages(),
            stuck=stuck_messages(),
            rq_failed=rq_failed,
            periodic=periodic,
            when=when,
            payload=lambda m: json.dumps(m.payload, ensure_ascii=False),
        )

    @expose("/retry/", methods=("POST",))
    def retry_view(self):
        """Put one failed outbox message back in line; it runs (or is pushed) once this commits."""
        message_id = parse_id(request.form.get("id"))
        message = db.session.get(OutboxMessage, message_id) if message_id is not None else None
        if message is None:
            abort(404)
        if retry_failed(message.id, current_user):
            db.session.commit()  # in the embedded mode the job runs right here
            db.session.refresh(message)
            if message.status == OutboxStatus.DONE:
                flash(_("Job %(job)s ran again and is done.", job=str(message)), "success")
            elif message.status == OutboxStatus.FAILED:
                flash(
                    _("Job %(job)s failed again: %(error)s", job=str(message), error=message.last_error),
                    "error",
                )
            else:
                flash(_("Job %(job)s is back in line.", job=str(message)), "success")
        else:
            db.session.rollback()
            flash(_("Job %(job)s is not failed (any more).", job=str(message)), "error")
        return redirect(self.get_url(".index"))

    @expose("/requeue/", methods=("POST",))
    def requeue_view(self):
        """Move one job from RQ's failed registry back to its queue."""
        queue = get_queue()
        job_id = request.form.get("job_id", "")
        if queue is None or not job_id or len(job_id) > 200:
            abort(404)
        try:
            FailedJobRegistry(queue=queue).requeue(job_id)
        except (InvalidJobOperation, NoSuchJobError):
            flash(_("Job %(job)s is not in the failed registry (any more).", job=job_id), "error")
        except RedisError as exc:
            flash(_("The queue cannot be reached: %(error)s", error=exc.__class__.__name__), "error")
        else:
            flash(_("Job %(job)s is back in the queue.", job=job_id), "success")
        return redirect(self.get_url(".index"))

    @expose("/run/", methods=("POST",))
    def run_view(self):
        """Run one periodic task now, in this process."""
        name = request.form.get("name", "")
        if name not in PERIODIC:
            abort(404)
        try:
            with current_app.app_context():  # a session of its own: run_periodic commits and removes it
                result = run_periodic(name)
        except Exception as exc:  # logged by run_periodic; the page says what happened
            flash(_("%(task)s failed: %(error)s", task=name, error=exc.__class__.__name__), "error")
        else:
            flash(_("Done: %(result)s", result=result), "success")
        return redirect(self.get_url(".index"))
