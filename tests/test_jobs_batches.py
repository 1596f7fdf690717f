"""Jobs that only write to the database (the notices) run together: one transaction for what piled up.

The suite runs jobs inline (each commit runs its jobs right after); the last test uses the embedded runner's
thread on a database of its own, as a web process does.
"""

import threading

import pytest
from sqlalchemy import event, select
from support import background_jobs_app

from app.extensions import db
from app.jobs import BATCHED, inprocess, job
from app.jobs.outbox import add_job, run_messages
from app.models import Notification, OutboxMessage, User
from app.models.jobs import OutboxStatus

ran: list[tuple[str, int]] = []
sessions: list[
    dict
] = []  # the session each batched job ran in (its `info`, kept so identity means something)
hold = threading.Event()
holding = threading.Event()  # set once a job waits for `hold`


@job("test.batched", batched=True)
def write_notice(n: int, fail: bool = False):
    """A job that only writes a row (as a notice does); fails when asked to."""
    ran.append(("batched", n))
    sessions.append(db.session.info)
    user_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    db.session.add(Notification(user_id=user_id, kind="wish_claimed", title=f"batch {n}"))
    db.session.flush()
    if fail:
        raise RuntimeError("builder broke")


@job("test.alone")
def talk_to_the_world(n: int, wait: bool = False):
    """A job that does more than write rows (runs alone); waits for `hold` when asked to."""
    if wait:
        holding.set()
        assert hold.wait(10)
    ran.append(("alone", n))


@pytest.fixture(autouse=True)
def fresh():
    ran.clear()
    sessions.clear()
    hold.clear()
    holding.clear()
    yield
    hold.set()


def _titles() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Notification.title).where(Notification.title.like("batch %"))))


def _statuses(ids: list[int]) -> list[str]:
    db.session.expire_all()
    return [db.session.get(OutboxMessage, i).status for i in ids]


def test_only_kinds_marked_as_database_only_are_batched():
    assert {"notify", "test.batched"} <= BATCHED
    assert not {"webhook.deliver", "test.alone"} & BATCHED


def test_the_notices_of_one_commit_share_one_transaction_and_other_jobs_run_alone(demo):
    commits = []
    listener = lambda connection: commits.append(connection)
    ids = [add_job("test.batched", n=n).id for n in (1, 2, 3)] + [add_job("test.alone", n=4).id]
    event.listen(db.engine, "commit", listener)
    try:
        db.session.commit()
    finally:
        event.remove(db.engine, "commit", listener)
    assert ran == [("batched", 1), ("batched", 2), ("batched", 3), ("alone", 4)]
    assert sessions[0] is sessions[1] is sessions[2]
    assert len(commits) == 3  # the change, the notices together, the other job
    assert _statuses(ids) == [OutboxStatus.DONE] * 4
    assert _titles() == ["batch 1", "batch 2", "batch 3"]


def test_when_one_notice_of_a_batch_fails_each_runs_alone_and_only_the_failing_one_is_retried(demo):
    ids = [add_job("test.batched", n=n, fail=n == 2).id for n in (1, 2, 3)]
    db.session.commit()
    # tried together (rolled back at the failure), then one by one
    assert ran == [("batched", 1), ("batched", 2), ("batched", 1), ("batched", 2), ("batched", 3)]
    assert _titles() == ["batch 1", "batch 3"]  # each written once
    assert _statuses(ids) == [OutboxStatus.DONE, OutboxStatus.PENDING, OutboxStatus.DONE]
    failed = db.session.get(OutboxMessage, ids[1])
    assert failed.attempts == 1 and "builder broke" in failed.last_error


def test_a_batch_skips_what_has_already_run(demo):
    ids = [add_job("test.batched", n=n).id for n in (1, 2)]
    db.session.commit()
    run_messages(ids)
    assert ran == [("batched", 1), ("batched", 2)] and _titles() == ["batch 1", "batch 2"]


@pytest.fixture(params=["sqlite", "postgresql"])
def background_app(request):
    with background_jobs_app(request.param, "batched_jobs") as app:
        assert inprocess.wait_idle(app, 10)  # the demo's own notices
        yield app
        hold.set()


def test_the_runner_takes_what_piled_up_while_it_was_busy_as_one_batch(background_app):
    app = background_app
    ran.clear()
    with app.app_context():
        add_job("test.alone", n=0, wait=True)
        db.session.commit()  # the runner is busy with this one until `hold` is set
        # the runner has taken it (else it might take the ones below with it, the batch first)
        assert holding.wait(10)
        ids = []
        for n in (1, 2, 3):  # three commits, three hand-overs
            ids.append(add_job("test.batched", n=n).id)
            db.session.commit()
        db.session.remove()
    hold.set()
    assert inprocess.wait_idle(app, 10)
    assert ran == [("alone", 0), ("batched", 1), ("batched", 2), ("batched", 3)]
    assert sessions[0] is sessions[1] is sessions[2]
    with app.app_context():
        assert _statuses(ids) == [OutboxStatus.DONE] * 3
        assert _titles() == ["batch 1", "batch 2", "batch 3"]
        db.session.remove()
