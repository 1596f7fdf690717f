"""A real race against a running server: many members claim one wish at the same instant, and one wins.

The session app's in-memory SQLite shares one connection, so it cannot show a race: these tests build
their own app on a temporary SQLite file (and, when TEST_DATABASE_URL names PostgreSQL, on a schema of
its own there), serve it with werkzeug in a background thread and fire the claims from real threads.
"""

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from support import app_settings, separate_database
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import Member, User, Wish, WishStep
from app.services import wishes as service
from app.services.demo import seed_demo
from app.services.tokens import issue_token
from app.services.users import create_user

CLAIMERS = 20
COMMUNITY = "610404001001"  # the demo community: its two grids end in 001 and 002
SCHEMA = "claim_race"


class InFlight:
    """WSGI middleware counting the requests being handled at once, to prove the claims overlapped."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __call__(self, environ, start_response):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self.lock:
                self.now -= 1

    def reset(self) -> None:
        self.most = 0


@dataclass
class RaceServer:
    """The app under test, served over HTTP, with a token for each of its racing members."""

    app: Flask
    base_url: str
    tokens: dict[str, str]  # member username → bearer token
    in_flight: InFlight

    def post(self, path: str, token: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base_url + path, data=b"", method="POST", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def race(self, calls: list[tuple[str, str]]) -> list[tuple[int, dict]]:
        """POST every (path, token) from its own thread, all released at once by a barrier."""
        self.in_flight.reset()
        barrier = threading.Barrier(len(calls))
        results: list = [None] * len(calls)

        def run(i: int, path: str, token: str):
            barrier.wait()
            results[i] = self.post(path, token)

        threads = [
            threading.Thread(target=run, args=(i, path, token)) for i, (path, token) in enumerate(calls)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert all(r is not None for r in results), "a claim never answered"
        return results


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request):
    """A fresh, empty database for the race: a temporary SQLite file, or a PostgreSQL schema of its own."""
    with separate_database(request.param, SCHEMA) as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url):
    """The demo district migrated into the race database, 21 fresh members with tokens, served over HTTP."""
    # one connection per racing request
    engine_options = {"pool_size": CLAIMERS + 5, "max_overflow": 5}
    if database_url.startswith("postgresql"):
        engine_options["pool_pre_ping"] = True
    app = create_app(app_settings(database_url, SQLALCHEMY_ENGINE_OPTIONS=engine_options))
    with app.app_context():
        upgrade()
        seed_demo()
        tokens = {}
        for n in range(CLAIMERS + 1):  # the last one races against the claim limit
            username = f"racer{n:02d}"
            create_user(username, "member", "racer-password", area_code=f"{COMMUNITY}00{1 + n % 2}")
            tokens[username] = issue_token(db.session.scalar(select(User).where(User.username == username)))[
                0
            ]
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


def publish_new_wishes(server: RaceServer, count: int) -> list[int]:
    """`count` new wishes of the demo resident, published by the demo grid worker, committed."""
    with server.app.app_context():
        resident, grid = (
            db.session.scalar(select(User).where(User.username == name)) for name in ("resident", "grid")
        )
        ids = []
        for n in range(count):
            wish = service.post_wish(resident, title=f"抢单测试{n}", description=None, category_code="life")
            service.publish_wish(grid, wish)
            ids.append(wish.id)
        db.session.commit()
        db.session.remove()
    return ids


def test_many_members_claiming_one_wish_at_once_leaves_exactly_one_winner(server):
    [wish_id] = publish_new_wishes(server, 1)
    racers = [name for name in sorted(server.tokens)][:CLAIMERS]

    results = server.race([(f"/wishes/{wish_id}/claim", server.tokens[name]) for name in racers])

    assert server.in_flight.most > 1, "the claims did not overlap: no race was run"
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [409] * (CLAIMERS - 1), statuses
    losers = [body["error"] for status, body in results if status == 409]
    assert {error["code"] for error in losers} == {"state_conflict"}
    assert all("already claimed" in error["message"] for error in losers)
    winner = racers[[status for status, _body in results].index(200)]
    with server.app.app_context():
        wish = db.session.get(Wish, wish_id)
        member = db.session.scalar(
            select(Member).join(User, Member.user_id == User.id).where(User.username == winner)
        )
        assert (wish.status, wish.claimed_by_id) == ("claimed", member.id)
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WishStep)
                .where(WishStep.wish_id == wish_id, WishStep.action == "claim")
            )
            == 1
        )
        db.session.remove()


def test_one_member_claiming_many_wishes_at_once_stops_at_the_claim_limit(server):
    limit = server.app.config["MAX_ACTIVE_CLAIMS"]
    wish_ids = publish_new_wishes(server, limit + 3)
    token = server.tokens[f"racer{CLAIMERS:02d}"]

    results = server.race([(f"/wishes/{wish_id}/claim", token) for wish_id in wish_ids])

    assert server.in_flight.most > 1, "the claims did not overlap: no race was run"
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] * limit + [409] * 3, statuses
    assert {body["error"]["code"] for status, body in results if status == 409} == {"claim_limit"}
    with server.app.app_context():
        member = db.session.scalar(
            select(Member)
            .join(User, Member.user_id == User.id)
            .where(User.username == f"racer{CLAIMERS:02d}")
        )
        assert service.active_claims(member.id) == limit
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WishStep)
                .where(WishStep.wish_id.in_(wish_ids), WishStep.action == "claim")
            )
            == limit
        )
        db.session.remove()
