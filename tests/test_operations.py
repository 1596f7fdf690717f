"""The operations page: queue state, the outbox, failed jobs with retry and requeue, and the periodic tasks."""

import re
from datetime import timedelta

import pytest
import redis
from conftest import IsolatedClient
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select
from support import app_settings, fresh_redis, separate_database

from app import create_app
from app.extensions import db
from app.jobs import job
from app.jobs.outbox import add_job
from app.jobs.queue import get_queue
from app.models import AuditLog, OutboxMessage
from app.models.base import utcnow
from app.models.jobs import OutboxStatus
from app.services.demo import DEMO_PASSWORDS, seed_demo

pytestmark = pytest.mark.usefixtures("english")

REDIS_INDEX = 15
runs: list[dict] = []
failing = {"on": False}


@job("test.ops.flaky")
def flaky_handler(**payload):
    """Test handler: fails while `failing["on"]`, else remembers its payload."""
    if failing["on"]:
        raise RuntimeError("printer out of paper")
    runs.append(payload)


def flaky_rq_job(redis_url: str, key: str) -> str:
    """An RQ job (run by an in-process SimpleWorker) that fails the first time only."""
    if redis.Redis.from_url(redis_url).incr(key) == 1:
        raise ValueError("first run fails")
    return "ok"


@pytest.fixture(autouse=True)
def fresh_state():
    runs.clear()
    failing["on"] = False
    yield
    runs.clear()
    failing["on"] = False


def text(response) -> str:
    return response.get_data(as_text=True)


def message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def queue_cell(page: str, key: str) -> str:
    return re.search(rf'data-queue="{key}">\s*(.*?)\s*</td>', page, re.DOTALL).group(1)


# --- access --------------------------------------------------------------------------------------------
def test_only_administrators_open_the_operations_page(login_as, client):
    assert login_as("admin").get("/admin/operations/").status_code == 200
    for username in ("grid", "community", "street"):
        assert login_as(username).get("/admin/operations/").status_code == 403
    assert login_as("grid").post("/admin/operations/run/", data={"name": "relay_outbox"}).status_code == 403
    assert client.get("/admin/operations/").status_code in (302, 303)


def test_the_page_shows_the_embedded_mode_the_outbox_and_the_periodic_tasks(login_as):
    add_job("test.ops.flaky", n=1)
    db.session.commit()  # runs in-process: one done message
    stuck = OutboxMessage(
        kind="test.ops.flaky",
        payload={"n": 2},
        status=OutboxStatus.PENDING,
        run_after=utcnow() - timedelta(hours=2),
        pushed_at=utcnow() - timedelta(hours=2),
        created_at=utcnow() - timedelta(hours=2),
    )
    db.session.add(stuck)  # pushed two hours ago and never run: its worker died
    db.session.commit()
    page = text(login_as("admin").get("/admin/operations/"))
    assert "In-process" in queue_cell(page, "mode")
    assert 'data-count="test.ops.flaky:done">1<' in page and 'data-count="test.ops.flaky:pending">1<' in page
    assert re.search(r"data-oldest-pending>2 hours<", page)
    assert re.search(rf'<tr data-outbox-id="{stuck.id}"><td>{stuck.id}</td><td>test.ops.flaky</td>', page)
    for name, every in (
        ("callback_reminders", "15 minutes"),
        ("relay_outbox", "30 seconds"),
        ("auto_confirm_wishes", "5 minutes"),
    ):
        row = re.search(rf'<tr data-periodic="{name}">(.*?)</tr>', page, re.DOTALL).group(1)
        assert every in row and f'data-run="{name}"' in row
    assert "RQ failed job registry" not in page


# --- failed outbox messages ----------------------------------------------------------------------------
def test_a_failed_job_is_listed_with_its_error_and_the_retry_button_runs_it_again(app, login_as):
    client = login_as("admin")
    app.config["JOB_MAX_ATTEMPTS"] = 1
    try:
        failing["on"] = True
        failed = add_job("test.ops.flaky", wish=12)
        db.session.commit()
        assert message(failed.id).status == OutboxStatus.FAILED and runs == []
        response = client.post("/admin/operations/retry/", data={"id": failed.id}, follow_redirects=True)
        assert "failed again: RuntimeError: printer out of paper" in text(response)
    finally:
        app.config["JOB_MAX_ATTEMPTS"] = 10
    assert message(failed.id).status == OutboxStatus.FAILED and runs == []
    page = text(client.get("/admin/operations/"))
    row = re.search(rf'<tr data-outbox-id="{failed.id}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "test.ops.flaky" in row and "printer out of paper" in row and f'data-retry="{failed.id}"' in row
    assert "wish&#34;: 12" in row or '"wish": 12' in row

    failing["on"] = False  # the cause is fixed
    response = client.post("/admin/operations/retry/", data={"id": failed.id}, follow_redirects=True)
    assert "ran again and is done" in text(response)
    assert runs == [{"wish": 12}] and message(failed.id).status == OutboxStatus.DONE
    assert f'data-retry="{failed.id}"' not in text(response)
    assert (
        db.session.scalar(select(AuditLog).where(AuditLog.model == "OutboxMessage")).after["status"]
        == "pending"
    )

    again = client.post("/admin/operations/retry/", data={"id": failed.id}, follow_redirects=True)
    assert "is not failed" in text(again) and runs == [{"wish": 12}]
    assert client.post("/admin/operations/retry/", data={"id": "nope"}).status_code == 404
    assert client.post("/admin/operations/retry/", data={"id": "99999999999"}).status_code == 404


def test_run_now_runs_a_periodic_task_and_says_what_it_did(login_as):
    client = login_as("admin")
    response = client.post(
        "/admin/operations/run/", data={"name": "callback_reminders"}, follow_redirects=True
    )
    assert response.status_code == 200 and "Done: callback_reminders: 0" in text(response)
    assert client.post("/admin/operations/run/", data={"name": "no_such_task"}).status_code == 404


# --- with a real Redis -----------------------------------------------------------------------------------
@pytest.fixture
def redis_app():
    """The demo district on a database of its own, with jobs going to a real (emptied) Redis database."""
    redis_url = fresh_redis(REDIS_INDEX)
    with separate_database("sqlite", "operations") as url:
        app = create_app(app_settings(url, REDIS_URL=redis_url))
        app.test_client_class = IsolatedClient
        with app.app_context():
            db.create_all()
            seed_demo()
            db.session.commit()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()


def admin_client(app):
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"][0]})
    assert response.status_code in (302, 303)
    return client


def test_with_redis_the_page_shows_the_jobs_waiting_for_a_worker(redis_app):
    client = admin_client(redis_app)
    before = int(queue_cell(text(client.get("/admin/operations/")), "queued"))  # the demo's own jobs
    with redis_app.app_context():
        add_job("test.ops.flaky", n=1)
        add_job("test.ops.flaky", n=2)
        db.session.commit()  # pushed to RQ; no worker is running
        assert get_queue().count == before + 2
    page = text(client.get("/admin/operations/"))
    assert "Redis" in queue_cell(page, "mode") and "Yes" in queue_cell(page, "reachable")
    assert queue_cell(page, "queued") == str(before + 2) and queue_cell(page, "workers") == "0"
    assert queue_cell(page, "failed") == "0" and runs == []


def test_with_redis_a_failed_rq_job_is_listed_and_can_be_requeued(redis_app):
    redis_url = redis_app.config["REDIS_URL"]
    with redis_app.app_context():
        queue = get_queue()
        queue.empty()  # the demo's own jobs are not this test's business
        job_id = queue.enqueue(flaky_rq_job, redis_url, "ops-test:flaky").id
        worker = SimpleWorker([queue], connection=queue.connection, serializer=queue.serializer)
        worker.work(burst=True)
        assert FailedJobRegistry(queue=queue).get_job_ids() == [job_id]
    client = admin_client(redis_app)
    page = text(client.get("/admin/operations/"))
    assert queue_cell(page, "failed") == "1"
    row = re.search(rf'<tr data-rq-job="{job_id}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert (
        "flaky_rq_job" in row and "ValueError: first run fails" in row and f'data-requeue="{job_id}"' in row
    )

    response = client.post("/admin/operations/requeue/", data={"job_id": job_id}, follow_redirects=True)
    assert "is back in the queue" in text(response)
    assert queue_cell(text(response), "failed") == "0" and queue_cell(text(response), "queued") == "1"
    with redis_app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection, serializer=queue.serializer).work(burst=True)
        finished = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
        assert finished.get_status() == "finished" and finished.return_value() == "ok"
    again = client.post("/admin/operations/requeue/", data={"job_id": job_id}, follow_redirects=True)
    assert "not in the failed registry" in text(again)
