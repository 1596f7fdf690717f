"""The outbox in the embedded mode: a job recorded with a change runs right after that change commits."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import HANDLERS, PERIODIC, job
from app.jobs.outbox import add_job, relay_outbox, retry_failed, run_message
from app.jobs.scheduler import run_periodic
from app.models import OutboxMessage, Wish
from app.models.base import aware, utcnow
from app.models.jobs import OutboxStatus

calls: list[dict] = []


@job("test.record")
def record_call(**payload):
    """Test handler: remembers its payload; fails while `fail` is above zero."""
    calls.append(payload)
    if payload.get("fail"):
        raise RuntimeError("receiver not ready")


@pytest.fixture(autouse=True)
def fresh_calls():
    calls.clear()
    yield
    calls.clear()


def _message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_job_runs_right_after_its_change_commits_and_not_before(app):
    message = add_job("test.record", wish=1)
    assert calls == []
    db.session.commit()
    assert calls == [{"wish": 1}]
    assert _message(message.id).status == OutboxStatus.DONE


def test_a_rolled_back_change_leaves_no_job(app):
    add_job("test.record", wish=2)
    db.session.rollback()
    db.session.commit()
    assert calls == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_job_with_the_same_key_is_recorded_once(app):
    first = add_job("test.record", key="certificate:wish:7", wish=7)
    assert add_job("test.record", key="certificate:wish:7", wish=7) is None
    db.session.commit()
    assert first is not None and calls == [{"wish": 7}]


def test_running_a_message_twice_has_one_effect(app):
    message = add_job("test.record", wish=3)
    db.session.commit()
    assert run_message(message.id) == "skipped"
    assert calls == [{"wish": 3}]


def test_a_failing_job_is_retried_later_then_marked_failed_and_can_be_retried_by_hand(app):
    app.config["JOB_MAX_ATTEMPTS"] = 2
    try:
        message = add_job("test.record", wish=4, fail=1)
        db.session.commit()
        first = _message(message.id)
        assert first.status == OutboxStatus.PENDING and first.attempts == 1
        assert "receiver not ready" in first.last_error and aware(first.run_after) > utcnow()
        assert relay_outbox() == 0  # not due yet
        first.run_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert relay_outbox() == 1
        failed = _message(message.id)
        assert failed.status == OutboxStatus.FAILED and failed.attempts == 2 and len(calls) == 2
        failed.payload = {"wish": 4}  # the cause is fixed
        db.session.commit()
        assert retry_failed(message.id)
        db.session.commit()
        assert _message(message.id).status == OutboxStatus.DONE and calls[-1] == {"wish": 4}
    finally:
        app.config["JOB_MAX_ATTEMPTS"] = 10


def test_the_relay_runs_what_was_recorded_but_never_pushed(app):
    message = OutboxMessage(
        kind="test.record", payload={"wish": 5}, status=OutboxStatus.PENDING, run_after=utcnow()
    )
    db.session.add(message)  # as if the process died between its commit and the push
    db.session.commit()
    assert calls == []
    assert relay_outbox() == 1
    assert calls == [{"wish": 5}] and _message(message.id).status == OutboxStatus.DONE


def test_unknown_job_kinds_are_refused_when_recorded(app):
    with pytest.raises(KeyError):
        add_job("no.such.kind")


def test_the_periodic_tasks_are_registered_in_one_place(app):
    assert {"relay_outbox", "auto_confirm_wishes"} <= set(PERIODIC)
    assert all(task.seconds > 0 for task in PERIODIC.values())
    assert "test.record" in HANDLERS


def test_the_auto_confirm_task_confirms_stale_done_wishes(app, demo):
    wish = db.session.scalar(select(Wish).where(Wish.status == "done"))
    wish.done_at, wish_id = utcnow() - timedelta(hours=80), wish.id
    db.session.commit()
    assert run_periodic("auto_confirm_wishes") == "auto_confirm_wishes: 1"
    assert db.session.get(Wish, wish_id).status == "confirmed"


def test_the_cli_runs_a_periodic_task_once(runner, demo):
    result = runner.invoke(args=["jobs", "run", "relay_outbox"])
    assert result.exit_code == 0 and "relay_outbox: 0" in result.output
    assert runner.invoke(args=["jobs", "run", "nope"]).exit_code != 0
    assert "REDIS_URL is not set" in runner.invoke(args=["jobs", "worker", "--burst"]).output


def test_the_embedded_scheduler_runs_the_periodic_tasks_in_a_thread(app, demo):
    import threading
    import time

    from app.jobs.scheduler import run_embedded

    wish = db.session.scalar(select(Wish).where(Wish.status == "done"))
    wish.done_at, wish_id = utcnow() - timedelta(hours=80), wish.id
    db.session.commit()
    stop = threading.Event()
    thread = threading.Thread(target=run_embedded, args=(app, stop, 0.05), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(Wish, wish_id).status == "confirmed":
                break
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert db.session.get(Wish, wish_id).status == "confirmed"
