"""Call-up races on a real database: many members answer and check in at once while staff close the call-up.

Each member's answer is recorded once; nobody arrives after the close without being credited (the answers hold the
call-up open while they write: PostgreSQL's FOR SHARE, SQLite's one writer); the hours are credited once however
the close and the arrivals interleave.
"""

import threading
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from support import app_settings, separate_database

from app import create_app
from app.extensions import db
from app.models import Member, User
from app.models.base import utcnow
from app.models.callups import CallupResponse
from app.services import callups
from app.services.demo import seed_demo
from app.services.errors import DomainError
from app.services.users import create_user

RACERS = 16
COMMUNITY = "610404001001"
SCHEMA = "callup_race"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request):
    with separate_database(request.param, SCHEMA) as url:
        options = {"pool_size": RACERS + 5, "max_overflow": 5}
        if url.startswith("postgresql"):
            options["pool_pre_ping"] = True
        app = create_app(app_settings(url, SQLALCHEMY_ENGINE_OPTIONS=options))
        with app.app_context():
            upgrade()
            seed_demo()
            for n in range(RACERS):
                create_user(
                    f"caller{n:02d}", "member", "racer-password", area_code=f"{COMMUNITY}00{1 + n % 2}"
                )
            db.session.commit()
            db.session.remove()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def race(app, work: list) -> list:
    """Run each `work(i)` in its own thread and app context, all released at once; their results or errors."""
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)

    def run(i, job):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = job()
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                results[i] = error
            except Exception as error:
                db.session.rollback()
                results[i] = ("crash", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_answers_and_check_ins_racing_a_close_are_recorded_once_and_credited_once(app):
    with app.app_context():
        callup = callups.raise_callup(
            _user("community"),
            area_code=COMMUNITY,
            title="竞速",
            details="",
            muster_point="门口",
            needed=3,
            starts_at=utcnow(),
            hours=Decimal(2),
        )
        db.session.commit()
        callup_id, token = callup.id, callup.checkin_token
        hours_before = {m.id: m.service_hours for m in db.session.scalars(select(Member))}
        db.session.remove()

    def answer(n):
        return lambda: callups.respond(_user(f"caller{n:02d}"), callup_id, "coming").id

    results = race(app, [answer(n) for n in range(RACERS)])
    assert not [r for r in results if isinstance(r, (tuple, DomainError))], results

    def arrive(n):
        return lambda: callups.check_in(_user(f"caller{n:02d}"), callup_id, token).id

    def close():
        return callups.close(_user("community"), callup_id).id

    results = race(app, [arrive(n) for n in range(RACERS)] + [close])
    assert not [r for r in results if isinstance(r, tuple)], results
    assert not isinstance(results[-1], DomainError), results[-1]
    refused = [r for r in results[:-1] if isinstance(r, DomainError)]
    assert all(r.status == 409 for r in refused)
    with app.app_context():
        rows = db.session.scalars(select(CallupResponse).where(CallupResponse.callup_id == callup_id)).all()
        answered = [r for r in rows if r.answer is not None]
        assert len(answered) == RACERS  # each answer once, on the member's one row
        arrived = [r for r in rows if r.arrived_at is not None]
        assert len(arrived) == RACERS - len(refused)
        assert all(r.credited for r in arrived)  # nobody arrived after the close without being credited
        hours = {m.id: m.service_hours for m in db.session.scalars(select(Member))}
        assert {m for m in hours if hours[m] != hours_before[m]} == {r.member_id for r in arrived}
        assert all(hours[r.member_id] == hours_before[r.member_id] + 2 for r in arrived)
        assert db.session.scalar(select(func.count()).select_from(CallupResponse)) >= RACERS
        db.session.remove()
