"""A real race: one member's app sends the same claim under one Idempotency-Key from many threads at once.

The server, its database (a SQLite file, or a PostgreSQL schema of its own) and its members come from
test_claim_race.py's fixtures.
"""

import json
import threading
import urllib.error
import urllib.request

from sqlalchemy import func, select
from test_claim_race import database_url, publish_new_wishes, server  # noqa: F401  (fixtures)

from app.extensions import db
from app.models import IdempotentRequest, WishStep

TWINS = 8


def post(base_url: str, path: str, token: str, key: str) -> tuple[int, bytes, str | None]:
    request = urllib.request.Request(
        base_url + path,
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), response.headers.get("Idempotent-Replayed")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Idempotent-Replayed")


def test_twins_of_one_claim_sent_at_once_claim_once_and_all_get_the_first_answer(server):  # noqa: F811
    [wish_id] = publish_new_wishes(server, 1)
    token = server.tokens["racer00"]
    server.in_flight.reset()
    barrier, results = threading.Barrier(TWINS), [None] * TWINS

    def run(i: int):
        barrier.wait()
        results[i] = post(server.base_url, f"/wishes/{wish_id}/claim", token, f"twin-claim-{wish_id}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(r is not None for r in results), "a twin never answered"
    assert server.in_flight.most > 1, "the twins did not overlap: no race was run"
    assert [status for status, _body, _replayed in results] == [200] * TWINS, results
    assert len({body for _status, body, _replayed in results}) == 1
    assert sorted(replayed or "" for _status, _body, replayed in results) == [""] + ["true"] * (TWINS - 1)
    assert json.loads(results[0][1])["status"] == "claimed"
    with server.app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WishStep)
                .where(WishStep.wish_id == wish_id, WishStep.action == "claim")
            )
            == 1
        )
        assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1
        db.session.remove()
