"""The embedded mode's job runner: a change's jobs run on a thread of the web process after its answer.

The suite itself runs jobs inline (TestConfig.EMBEDDED_JOBS); these tests build an app in the default
"background" mode on a database of their own (threads cannot share the session app's in-memory SQLite).
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from support import app_settings, background_jobs_app

from app import create_app
from app.config import Config
from app.extensions import db
from app.jobs import HANDLERS, inprocess, job
from app.jobs.outbox import add_job, relay_outbox
from app.models import Member, Notification, OutboxMessage, User, Wish
from app.models.base import aware, utcnow
from app.models.jobs import OutboxStatus
from app.services.tokens import issue_token

ran: list[int] = []
release = threading.Event()  # a blocked job waits for it


@job("test.inprocess")
def blocking_job(n: int, block: bool = False, fail: bool = False):
    """Test handler: waits for `release` when asked to, fails when asked to, remembers what ran."""
    if block and not release.wait(10):
        raise RuntimeError("never released")
    if fail:
        raise RuntimeError("receiver not ready")
    ran.append(n)


@pytest.fixture(params=["sqlite", "postgresql"])
def background_app(request):
    ran.clear()
    release.clear()
    with background_jobs_app(request.param, "inprocess_jobs") as app:
        yield app
        release.set()


def _status(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.remove()
        return message


def test_the_default_mode_runs_jobs_in_the_background():
    assert Config.EMBEDDED_JOBS == "background"


def test_a_step_is_answered_before_its_notice_job_runs_and_the_notice_follows(background_app, monkeypatch):
    app = background_app
    assert inprocess.wait_idle(app, 10)  # the demo's own notices are sent
    notify = HANDLERS["notify"]

    def held_notify(**payload):
        assert release.wait(10)
        return notify(**payload)

    monkeypatch.setitem(HANDLERS, "notify", held_notify)
    with app.app_context():
        member = db.session.scalar(select(User).where(User.username == "member"))
        token, _expires = issue_token(member)
        wish_id = db.session.scalar(
            select(Wish.id)
            .join(Member, Member.id == Wish.claimed_by_id)
            .where(Wish.status == "claimed", Member.user_id == member.id)
            .order_by(Wish.id)
        )
        seen = db.session.scalar(select(func.max(OutboxMessage.id)))
        db.session.commit()

    # the member says the wish is done: its owner is asked to confirm, by a job after the answer
    response = app.test_client().post(
        f"/api/v1/wishes/{wish_id}/complete",
        headers={"Authorization": f"Bearer {token}"},
        json={"note": "陪老人复查完毕", "hours": 2},
    )

    # answered while the owner's notice is still held on the runner's thread
    assert response.status_code == 200 and response.get_json()["status"] == "done"
    told = select(Notification).where(
        Notification.subject == f"wish:{wish_id}", Notification.kind == "wish_done"
    )
    with app.app_context():
        assert not db.session.scalars(told).all()
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > seen)).all()
        assert message.kind == "notify"
        message_id = message.id
        assert message.status == OutboxStatus.PENDING and message.pushed_at is not None
        assert relay_outbox() == 0  # handed over: the relay leaves it to the runner within its grace
        db.session.remove()
    release.set()
    assert inprocess.wait_idle(app, 10)
    with app.app_context():
        [notice] = db.session.scalars(told).all()
        assert notice.user_id == db.session.get(Wish, wish_id).owner_id
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.DONE
        db.session.remove()


def test_jobs_run_in_order_and_a_failing_one_is_retried_later_without_stopping_the_others(background_app):
    app = background_app
    assert inprocess.wait_idle(app, 10)
    with app.app_context():
        ids = [add_job("test.inprocess", n=1).id, add_job("test.inprocess", n=2, fail=True).id]
        ids.append(add_job("test.inprocess", n=3).id)
        db.session.commit()
    assert inprocess.wait_idle(app, 10)
    assert ran == [1, 3]
    statuses = [_status(app, message_id) for message_id in ids]
    assert [m.status for m in statuses] == [OutboxStatus.DONE, OutboxStatus.PENDING, OutboxStatus.DONE]
    failed = statuses[1]
    assert failed.attempts == 1 and "receiver not ready" in failed.last_error
    assert failed.pushed_at is None and aware(failed.run_after) > utcnow()  # the relay's, once due


def test_a_job_its_process_never_ran_is_run_by_the_relay_after_the_grace(background_app):
    app = background_app
    with app.app_context():
        message_id = add_job("test.inprocess", n=7).id
        db.session.info.pop("onegrid_outbox_new")  # as if the process had stopped before handing it over
        db.session.commit()
        assert relay_outbox() == 0  # within the grace: maybe still on a runner
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(pushed_at=utcnow() - timedelta(seconds=app.config["JOB_RELAY_GRACE_SECONDS"] + 1))
        )
        db.session.commit()
        assert relay_outbox() == 1
        db.session.remove()
    assert inprocess.wait_idle(app, 10)
    assert ran == [7]
    assert _status(app, message_id).status == OutboxStatus.DONE


def test_stopping_the_runner_finishes_what_it_was_handed(background_app):
    app = background_app
    with app.app_context():
        add_job("test.inprocess", n=1, block=True)
        add_job("test.inprocess", n=2)
        db.session.commit()
    runner = inprocess.runner(app)
    assert not runner.wait_idle(0.2)  # held
    threading.Timer(0.2, release.set).start()
    assert runner.stop(10)
    assert ran == [1, 2]
    runner.thread.join(5)
    assert not runner.thread.is_alive()
    assert inprocess.runner(app) is not runner  # a stopped runner is replaced on next use


def test_an_unknown_embedded_jobs_mode_is_refused():
    with pytest.raises(ValueError, match="EMBEDDED_JOBS"):
        create_app(app_settings("sqlite://", EMBEDDED_JOBS="sometimes"))
