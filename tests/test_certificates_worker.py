"""Certificates through a real Redis and real `flask jobs worker` processes, on SQLite and PostgreSQL.

Each case builds its own app on a database of its own (tests/support.py): the worker is another process,
which the session app's in-memory SQLite cannot be shared with.
"""

import os
import re
import signal
import subprocess
import time
from datetime import datetime
from decimal import Decimal

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import func, insert, select, text
from support import app_settings, fresh_redis, run_worker_burst, separate_database, start_worker

from app import create_app
from app.extensions import db
from app.jobs.outbox import relay_outbox
from app.jobs.queue import get_queue
from app.models import Member, OutboxMessage, Unit, User, Wish, WishCategory
from app.models.base import utcnow
from app.models.certificates import Certificate, HonourBatch
from app.services import wishes
from app.services.certificate_batches import start_honour_batch
from app.services.certificate_pdf import local_date
from app.services.demo import DEMO_PASSWORDS, seed_demo
from app.services.users import create_user

REDIS_INDEX = 11
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request):
    with separate_database(request.param, "certificate_worker") as url:
        yield url


@pytest.fixture(scope="module")
def certificate_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("certificates")


@pytest.fixture(scope="module")
def worker_app(database_url, certificate_dir):
    """The demo district on its own database, jobs going to a real Redis; the relay re-pushes at once."""
    app = create_app(
        app_settings(
            database_url,
            REDIS_URL=fresh_redis(REDIS_INDEX),
            CERTIFICATE_DIR=str(certificate_dir),
            JOB_RELAY_GRACE_SECONDS=0,
        )
    )
    with app.app_context():
        db.create_all()  # the certificate tables have no migration yet
        seed_demo()
        create_user("member_b", "member", "member-password-1", area_code="610404001001002", name="李红梅")
        db.session.commit()
        db.session.remove()
    run_worker_burst(app, CERTIFICATE_DIR=str(certificate_dir))  # the demo's own confirmed wish
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wait_until_no_job_is_pending(app, seconds: float) -> None:
    """Poll the outbox until no message is pending (a running worker takes them), at most `seconds`."""
    deadline = time.monotonic() + seconds
    with app.app_context():
        pending = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        while db.session.scalar(pending) and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.1)
        db.session.remove()


def running_worker(app, certificate_dir):
    """A real worker process, kept running."""
    return start_worker(app, CERTIFICATE_DIR=str(certificate_dir))


def burst(app, certificate_dir):
    return run_worker_burst(app, CERTIFICATE_DIR=str(certificate_dir))


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def done_wish(title: str) -> int:
    """A wish of the demo resident, published, claimed and completed (1.5 h) by the member 王建国; its id."""
    wish = wishes.post_wish(user("resident"), title=title, description=None, category_code="life")
    wishes.publish_wish(user("grid"), wish)
    wishes.claim_wish(user("member"), wish)
    wishes.complete_wish(user("member"), wish, "已完成", "1.5")
    db.session.commit()
    return wish.id


def logged_in(app, username: str, password: str | None = None):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": password or DEMO_PASSWORDS[username][0]}
    )
    assert response.status_code in (302, 303)
    return client


def pdf_text(path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def certificate_of(wish_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.wish_id == wish_id)))


def test_a_confirmed_wish_becomes_a_downloadable_verifiable_certificate_through_the_worker(
    worker_app, certificate_dir
):
    with worker_app.app_context():
        wish_id = done_wish("修理单元门禁")
        wishes.confirm_wish(user("resident"), db.session.get(Wish, wish_id), "good")
        db.session.commit()
        [pending] = certificate_of(wish_id)
        serial = pending.serial
        assert pending.status == "pending"  # the web process only recorded it: the worker renders
        db.session.remove()

    burst(worker_app, certificate_dir)

    with worker_app.app_context():
        [certificate] = certificate_of(wish_id)
        assert certificate.status == "ready"
        text = pdf_text(certificate_dir / certificate.pdf_path)
        assert "王建国" in text and serial in text and "修理单元门禁" in text
        db.session.remove()
    holder = logged_in(worker_app, "member").get(f"/certificates/{serial}.pdf")
    assert (
        holder.status_code == 200 and holder.mimetype == "application/pdf" and holder.data.startswith(b"%PDF")
    )
    other = logged_in(worker_app, "member_b", "member-password-1").get(f"/certificates/{serial}.pdf")
    assert other.status_code == 404
    page = worker_app.test_client().get(f"/verify/{serial}")
    assert page.status_code == 200 and 'data-verify-status="valid"' in page.get_data(as_text=True)


def test_with_redis_down_the_confirmation_commits_and_the_relay_delivers_the_certificate_later(
    worker_app, certificate_dir
):
    with worker_app.app_context():
        wish_id = done_wish("帮忙搬运旧家具")
        db.session.remove()
    offline = create_app({**worker_app.config, "REDIS_URL": CLOSED_PORT_REDIS})
    with offline.app_context():
        wishes.confirm_wish(user("resident"), db.session.get(Wish, wish_id), "good")
        db.session.commit()  # the push to the closed port fails, the change stands
        assert db.session.get(Wish, wish_id).status == "confirmed"
        [certificate] = certificate_of(wish_id)
        message = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == f"certificate:{certificate.id}")
        )
        assert (certificate.status, message.status, message.pushed_at) == ("pending", "pending", None)
        db.session.remove()
        db.engine.dispose()

    with worker_app.app_context():
        assert relay_outbox() >= 1
        db.session.remove()
    burst(worker_app, certificate_dir)

    with worker_app.app_context():
        certificates = certificate_of(wish_id)
        assert [c.status for c in certificates] == ["ready"]
        assert (certificate_dir / certificates[0].pdf_path).is_file()
        db.session.remove()


def add_members_with_hours(community_code: str, count: int, hours: Decimal, when: datetime) -> list[int]:
    """`count` new members of a community, each with one confirmed wish of `hours`, by bulk insert; their ids."""
    grids = [code for code in (f"{community_code}001", f"{community_code}002")]
    category_id = db.session.scalar(select(WishCategory.id).where(WishCategory.code == "life"))
    resident = user("resident")
    unit_id = db.session.scalar(select(Unit.id).order_by(Unit.id))
    first = db.session.scalar(select(func.coalesce(func.max(Member.id), 0))) + 1
    members = [
        {
            "id": first + n,
            "name": f"志愿者{community_code[-3:]}{n:03d}",
            "grid_code": grids[n % 2],
            "unit_id": unit_id,
            "service_hours": hours,
            "active": True,
        }
        for n in range(count)
    ]
    db.session.execute(insert(Member), members)
    db.session.execute(
        insert(Wish),
        [
            {
                "title": f"批量心愿{m['id']}",
                "category_id": category_id,
                "grid_code": m["grid_code"],
                "owner_id": resident.id,
                "posted_by_id": resident.id,
                "status": "confirmed",
                "claimed_by_id": m["id"],
                "hours": hours,
                "respond_by": when,
                "reply_by": when,
                "resolve_by": when,
                "created_at": when,
                "published_at": when,
                "claimed_at": when,
                "done_at": when,
                "confirmed_at": when,
                "updated_at": when,
            }
            for m in members
        ],
    )
    if db.engine.dialect.name == "postgresql":  # rows came with their ids: move the sequence past them
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('member', 'id'), (SELECT max(id) FROM member))")
        )
    db.session.commit()
    return [m["id"] for m in members]


def start_batch(community_code: str) -> tuple[int, int]:
    """Start (or re-run) the batch of a community for this year, as the administrator, committed: (id, added)."""
    today = local_date(utcnow())
    batch, added = start_honour_batch(
        user("admin"), f"area:{community_code}", today.replace(month=1, day=1), today
    )
    db.session.commit()
    return batch.id, added


def ready_count(batch_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.batch_id == batch_id, Certificate.status == "ready")
    )


def kill_in_the_middle_of_a_job(app, certificate_dir, batch_id: int, after: int) -> int:
    """Start a worker, SIGKILL it while it runs a job (once `after` certificates are ready); the killed job's message id.

    A job that ends in the very instant of the kill leaves nothing in flight: then a new worker is started and
    killed again (at most a few times), so the test always kills one in the middle of a job.
    """
    started = StartedJobRegistry(queue=get_queue(app))
    for _attempt in range(5):
        earlier = set(started.get_job_ids())  # jobs of workers killed before: they stay listed
        worker = running_worker(app, certificate_dir)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and worker.poll() is None:
                with app.app_context():
                    enough = ready_count(batch_id) >= after
                    db.session.remove()
                if enough and set(started.get_job_ids()) - earlier:
                    break
                time.sleep(0.005)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL, "the worker ended by itself"
        with app.app_context():
            ids = [int(job_id.removeprefix("outbox-")) for job_id in set(started.get_job_ids()) - earlier]
            in_flight = [i for i in ids if db.session.get(OutboxMessage, i).status == "pending"]
            db.session.remove()
        if in_flight:
            return in_flight[0]
    pytest.fail("could not kill the worker in the middle of a job")


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_nothing_half_done_and_a_new_worker_finishes_it(
    worker_app, certificate_dir
):
    count = 40
    with worker_app.app_context():
        add_members_with_hours("610404002001", count, Decimal(2), utcnow())
        batch_id, added = start_batch("610404002001")
        assert added == count
        db.session.remove()

    killed = kill_in_the_middle_of_a_job(worker_app, certificate_dir, batch_id, after=3)

    with worker_app.app_context():
        statuses = dict(
            db.session.execute(
                select(Certificate.status, func.count())
                .where(Certificate.batch_id == batch_id)
                .group_by(Certificate.status)
            ).all()
        )
        assert 3 <= statuses.get("ready", 0) < count and statuses["pending"] >= 1
        for certificate in db.session.scalars(select(Certificate).where(Certificate.batch_id == batch_id)):
            # no file yet, or (killed after the rename) a whole one: never half of one
            path = certificate_dir / f"{certificate.serial}.pdf"
            assert path.exists() or certificate.status == "pending", certificate.serial
            assert not path.exists() or path.read_bytes().rstrip().endswith(b"%%EOF"), certificate.serial
        assert relay_outbox() >= statuses["pending"]  # JOB_RELAY_GRACE_SECONDS=0: pushed again at once
        db.session.remove()
    burst(worker_app, certificate_dir)

    with worker_app.app_context():
        certificates = db.session.scalars(select(Certificate).where(Certificate.batch_id == batch_id)).all()
        assert len(certificates) == count and {c.status for c in certificates} == {"ready"}
        assert len({c.member_id for c in certificates}) == count
        for certificate in certificates:
            data = (certificate_dir / certificate.pdf_path).read_bytes()
            assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF"), certificate.serial
        batch = db.session.get(HonourBatch, batch_id)
        assert (batch.done, batch.total) == (count, count)
        assert db.session.get(OutboxMessage, killed).status == "done"
        db.session.remove()


def test_a_batch_of_200_honour_certificates_reaches_200_of_200_and_a_second_run_adds_none(
    worker_app, certificate_dir
):
    count = 200
    with worker_app.app_context():
        add_members_with_hours("610404003001", count, Decimal("4.5"), utcnow())
        db.session.remove()
    admin = logged_in(worker_app, "admin")
    today = local_date(utcnow())
    form = {
        "scope": "area:610404003001",
        "period_start": f"{today.year}-01-01",
        "period_end": today.isoformat(),
    }

    began = time.monotonic()
    answer = admin.post("/admin/honourbatch/new/", data=form)
    assert answer.status_code in (302, 303)
    with worker_app.app_context():
        batch_id = db.session.scalar(select(HonourBatch.id).where(HonourBatch.scope_key == form["scope"]))
        db.session.remove()
    worker = running_worker(worker_app, certificate_dir)
    seen = []
    try:
        while time.monotonic() - began < 90:
            progress = admin.get(f"/admin/honourbatch/progress/?id={batch_id}").get_json()
            seen.append(progress["done"])
            if progress["finished"]:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        # each certificate stored records its member's notice, a job of its own: the last ones are still
        # the worker's to run when the batch shows finished
        wait_until_no_job_is_pending(worker_app, seconds=30)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    assert progress == {"id": batch_id, "done": count, "total": count, "finished": True}, progress
    assert seen == sorted(seen) and len(set(seen)) > 2  # it moved while the worker rendered
    print(
        f"\n{count} honour certificates through one worker: {elapsed:.1f} s, {1000 * elapsed / count:.0f} ms each"
    )

    again = admin.post("/admin/honourbatch/new/", data=form, follow_redirects=True)
    assert "Nothing to add" in again.get_data(as_text=True)
    with worker_app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Certificate).where(Certificate.batch_id == batch_id)
            )
            == count
        )
        assert (
            db.session.scalar(
                select(func.count()).select_from(HonourBatch).where(HonourBatch.scope_key == form["scope"])
            )
            == 1
        )
        pending_jobs = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        assert pending_jobs == 0
        db.session.remove()
