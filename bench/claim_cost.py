"""What one claim costs the server in instructions: a won and a lost claim through the API, against a bare request.

The claim race's claims/s and CPU per request move by a quarter from one run to the next with whatever else the
machine runs (bench/README.md); valgrind's callgrind counts instructions, the same for the same code and data
whatever else runs, so a change to the claim's path shows as it is. The script seeds a database, then runs
itself under `valgrind --tool=callgrind`, counting only around the measured requests, side by side in one run:

- a bare request: a route of the same app that answers "ok" (Flask, the app's hooks, the test client);
- won claims: `POST /api/v1/wishes/<id>/claim` by a member, each with its owner's notice (written in the claim's
  transaction; any job it records runs inline);
- lost claims: the same wishes claimed again by a second member (409).

It prints the instructions of each kind of request and its ratio to the bare one. Nothing is checked beyond
each answer's status; the claim race checks the claims.

    .venv/bin/python bench/claim_cost.py                                  # SQLite (temporary file)
    .venv/bin/python bench/claim_cost.py --database-url postgresql://127.0.0.1:5432/DB

Needs valgrind (Debian's package) and takes about a minute.
"""

import argparse
import gc
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import common
from common import BenchFailure, progress

GRID = "610404001001001"
WARM = 20  # claims before counting: statements built and cached, connections open


def prepare(url: str, claims: int, state: Path) -> None:
    """Seed the database (two members with tokens, published wishes) and write what the measuring run needs."""
    from app.extensions import db
    from app.services.tokens import issue_token
    from app.services.users import create_user

    config = common.bench_config(url, MAX_ACTIVE_CLAIMS=10 * (WARM + claims), EMBEDDED_JOBS="inline")
    app = common.make_app(config)
    with app.app_context():
        common.reset_database()
        tokens = []
        for i in range(2):
            user = create_user(f"claimer{i}", "member", "bench-password", area_code=GRID, name=f"党员{i}")
            tokens.append(issue_token(user)[0])
        db.session.commit()
        ids = [wish_id for wish_id, _ in common.add_published_wishes(WARM + claims, [GRID], seed=610)]
        db.engine.dispose()
    state.write_text(json.dumps({"config": config, "ids": ids, "tokens": tokens}))


def measure(state: Path) -> None:
    """Under callgrind: warm up, then count each kind of request in a dump of its own."""
    data = json.loads(state.read_text())
    app = common.make_app(data["config"])
    app.add_url_rule("/_bench/bare", "bench_bare", lambda: "ok")
    client = app.test_client()
    ids = data["ids"]
    winner, loser = ({"Authorization": f"Bearer {token}"} for token in data["tokens"])

    def claim(wish_id: int, headers: dict, status: int) -> None:
        response = client.post(f"/api/v1/wishes/{wish_id}/claim", headers=headers)
        if response.status_code != status:
            raise BenchFailure(f"claim of wish {wish_id}: {response.status_code}, expected {status}")

    def bare() -> None:
        if client.get("/_bench/bare").status_code != 200:
            raise BenchFailure("the bare route did not answer 200")

    for wish_id in ids[:WARM]:
        bare()
        claim(wish_id, winner, 200)
        claim(wish_id, loser, 409)

    def control(option: str) -> None:  # callgrind_control talks to the valgrind running this very process
        subprocess.run(["callgrind_control", option, str(os.getpid())], check=True, capture_output=True)

    # the collector as in a gunicorn worker (gunicorn.conf.py), and emptied before each kind is counted, so
    # a collection the one before left due is not counted with the next
    runpy.run_path(os.path.join(common.ROOT, "gunicorn.conf.py"))["post_worker_init"](None)

    def counting(kind: str, requests) -> None:
        gc.collect()
        control("--zero")  # what the collection cost is not counted
        for request in requests:
            request()
        control(f"--dump={kind}")

    counted = ids[WARM:]
    control("--instr=on")
    counting("bare", [bare for _ in counted])
    counting("won", [lambda wish_id=wish_id: claim(wish_id, winner, 200) for wish_id in counted])
    counting("lost", [lambda wish_id=wish_id: claim(wish_id, loser, 409) for wish_id in counted])
    control("--instr=off")


def count(folder: Path) -> dict[str, int]:
    """The instructions of each dump, by its trigger ("bare", "won", "lost")."""
    found = {}
    for dump in folder.glob("callgrind.out.*-01"):  # the main thread's, which makes the requests
        text = dump.read_text(errors="replace")
        trigger = next(
            (line.split()[-1] for line in text.splitlines() if line.startswith("desc: Trigger:")), None
        )
        summary = next((line for line in text.splitlines() if line.startswith("summary:")), None)
        if trigger in ("bare", "won", "lost") and summary:
            found[trigger] = int(summary.split()[1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--claims", type=int, default=30, help="claims counted of each kind")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the run under valgrind: the state file
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure))
        return 0
    if args.claims < 1:
        parser.error("count at least 1 claim")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("FAILED: valgrind is not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 1
    try:
        with common.database_url(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
            backend = url.split("://")[0].split("+")[0]
            folder = Path(folder)
            progress(f"{backend}: preparing {args.claims + WARM} published wishes")
            prepare(url, args.claims, folder / "state.json")
            progress(
                f"{backend}: counting under callgrind ({WARM} claims to warm up, then {args.claims} of each)"
            )
            run = subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    "--separate-threads=yes",  # the requests' thread only: not the app's job scheduler
                    f"--callgrind-out-file={folder}/callgrind.out.%p",
                    sys.executable,
                    __file__,
                    "--measure",
                    str(folder / "state.json"),
                ],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise BenchFailure(f"the run under valgrind failed:\n{run.stderr[-2000:]}")
            found = count(folder)
            if set(found) != {"bare", "won", "lost"}:
                raise BenchFailure(f"callgrind wrote dumps for {sorted(found)}, not bare, won and lost")
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    per = {kind: found[kind] / args.claims for kind in found}
    print(f"\n{backend}: instructions per request ({args.claims} of each), and the ratio to a bare request")
    print(f"{'request':<44}{'instructions':>14}{'× bare':>9}")
    names = {
        "bare": "bare route (Flask, the app's hooks)",
        "won": "won claim (200), its owner's notice included",
        "lost": "lost claim (409)",
    }
    for kind in ("bare", "won", "lost"):
        print(f"{names[kind]:<44}{per[kind] / 1e6:>12.2f} M{per[kind] / per['bare']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
