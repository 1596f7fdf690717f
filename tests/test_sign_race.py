"""Real races on 双签字, against a served app: the captain and the leader signing one log at the same instant
both count (the later is taken as the countersignature), and one person signing twice at once signs once."""

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from support import app_settings, separate_database
from test_claim_race import InFlight, RaceServer
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import User
from app.models.worklogs import SignStatus, WorkLog
from app.services import worklogs
from app.services.clock import district_today
from app.services.demo import seed_demo
from app.services.tokens import issue_token

SCHEMA = "sign_race"
GRID = "610404001001001"  # the demo's captain and leader hold its places
ROUNDS = 6


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request):
    with separate_database(request.param, SCHEMA) as url:
        options = {"pool_size": 10, "max_overflow": 5}
        if url.startswith("postgresql"):
            options["pool_pre_ping"] = True
        app = create_app(app_settings(url, SQLALCHEMY_ENGINE_OPTIONS=options))
        with app.app_context():
            upgrade()
            seed_demo()
            tokens = {
                name: issue_token(db.session.scalar(select(User).where(User.username == name)))[0]
                for name in ("captain", "leader")
            }
            db.session.commit()
            db.session.remove()
        in_flight = InFlight(app.wsgi_app)
        app.wsgi_app = in_flight
        http = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        yield RaceServer(app, f"http://127.0.0.1:{http.server_port}/api/v1", tokens, in_flight)
        http.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def new_logs(server: RaceServer, count: int) -> list[int]:
    with server.app.app_context():
        grid = db.session.scalar(select(User).where(User.username == "grid"))
        ids = [worklogs.write_log(grid, GRID, district_today(), f"竞签测试{n}").id for n in range(count)]
        db.session.commit()
        db.session.remove()
    return ids


def test_the_captain_and_the_leader_signing_at_once_both_count(server):
    overlapped = 0
    for log_id in new_logs(server, ROUNDS):
        path = f"/worklogs/{log_id}/sign"
        results = server.race([(path, server.tokens["captain"]), (path, server.tokens["leader"])])
        overlapped += server.in_flight.most > 1
        assert [status for status, _body in results] == [200, 200], results
        with server.app.app_context():
            log = db.session.get(WorkLog, log_id)
            assert log.status == SignStatus.SIGNED
            assert log.captain_signer_id and log.leader_signer_id and log.signed_at
            db.session.remove()
    assert overlapped, "the signatures never overlapped: no race was run"


def test_one_person_signing_twice_at_once_signs_once(server):
    [log_id] = new_logs(server, 1)
    results = server.race([(f"/worklogs/{log_id}/sign", server.tokens["captain"])] * 4)
    assert server.in_flight.most > 1
    assert sorted(status for status, _body in results) == [200, 409, 409, 409], results
    with server.app.app_context():
        log = db.session.get(WorkLog, log_id)
        assert log.status == SignStatus.AWAITING and log.captain_signer_id and log.leader_signer_id is None
