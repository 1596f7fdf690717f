"""What the claim race can reach on this machine: a won and a lost claim each served flat out, and the bound they set.

The claim race (bench/claim_race.py) mixes two kinds of request: won claims (200) and the losers' claims of
wishes already taken (409), about one loser per won claim. Both take CPU of the same two cores (the server's, the
database's and the client's), so the race cannot go faster than the CPU each kind needs allows. This script
measures that CPU, side by side in one run, against the same gunicorn the race uses (2 gthread workers × 8
threads) and with wrk (C, 2 threads × 16 connections: it costs far less than the race's 200 Python threads), each
kind of request served flat out alone, in rounds:

- a bare Flask app's page (`bench/hello.py`) and `/healthz` (OneGrid's app and hooks around one `SELECT 1`): what
  a request costs at all;
- won claims: each request claims another published wish, as one of 32 members (every answer must be 200, and no
  wish may have two claim steps);
- lost claims: the same members claiming the wishes already taken (every answer must be 409).

For each it prints the requests/s and the machine's CPU time per answer (/proc/stat: everyone's, wrk included;
the share left idle says when something else than the CPU held a kind back — a lock, SQLite's one writer). A race
with r losers per won claim spends at least won + r × lost CPU ms per claim, so with n cores it reaches at most
n × 1000 / (won + r × lost) claims/s; the script prints that bound for r = --losers-per-won (the race shows
0.85–1.1 losers per won claim) against issue 12's target, and how much cheaper the claims would have to be.

    .venv/bin/python bench/claim_ceiling.py                                  # SQLite (temporary file)
    .venv/bin/python bench/claim_ceiling.py --database-url postgresql://127.0.0.1:5432/DB

Exit status 1 when an answer is not the expected one (a won claim not 200, a lost one not 409, socket errors).
The PostgreSQL database's tables are all dropped and created anew.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import claim_race
import common
from common import BenchFailure, progress

NAMES = {
    "hello": "bare Flask page (bench/hello.py)",
    "healthz": "/healthz (the app, one SELECT 1)",
    "won": "won claim (200), alone",
    "lost": "lost claim (409), alone",
}
TARGETS = {"sqlite": 150, "postgresql": 200}  # issue 12: claims/s of bench/claim_race.py
TICKS = os.sysconf("SC_CLK_TCK")  # /proc/stat's ticks a second
CONNECTIONS = 16  # wrk's, over its 2 threads
MEMBERS = 32  # members whose tokens the won and lost claims take turns with (each claim locks its member)

# each wrk thread claims its own share of the wishes (every other id), each request the next, and takes turns
# with the members' tokens, so concurrent requests seldom share a member
LUA = """
ids = {%(ids)s}
tokens = {%(tokens)s}
local threads = 0
local all = {}
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
  table.insert(all, thread)
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(all) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("unexpected statuses: %%d\\n", total))
end
function init(args)
  step = 0
  unexpected = 0
end
function response(status, headers, body)
  if status ~= %(expected)d then
    unexpected = unexpected + 1
  end
end
function request()
  local index = (step * 2 + tid) %% #ids + 1
  step = step + 1
  return wrk.format("POST", "/api/v1/wishes/" .. ids[index] .. "/claim",
    {["Authorization"] = "Bearer " .. tokens[step %% #tokens + 1], ["Content-Length"] = "0"})
end
"""


def wrk(url: str, seconds: float, script: Path | None = None) -> dict:
    """`common.run_wrk`'s numbers against `url`, with the machine's CPU per answer and idle share meanwhile, and the
    answers that were not as expected (the claims' script counts them; else those not 2xx)."""
    before = common.cpu_times()
    numbers = common.run_wrk(url, seconds, connections=CONNECTIONS, script=script and str(script))
    spent = [b - a for a, b in zip(before, common.cpu_times(), strict=True)]
    numbers["cpu_ms"], numbers["idle"] = cpu_per_answer(spent, numbers["requests"])
    if numbers["unexpected"] is None:
        numbers["unexpected"] = numbers["non_2xx"]
    return numbers


def cpu_per_answer(spent: list[int], answers: int) -> tuple[float, float]:
    """From the ticks /proc/stat counted meanwhile (`common.cpu_times`, after minus before): the CPU ms the
    machine spent per answer, everyone's (server, database, wrk), and the share of its time nobody used (idle
    or waiting for the disk)."""
    if len(spent) != 8 or not sum(spent):
        raise BenchFailure("the machine's CPU times are not readable (/proc/stat): the bound needs them")
    idle = spent[3] + spent[4]
    return (sum(spent) - idle) / TICKS * 1000 / max(answers, 1), idle / sum(spent)


def claims_script(folder: Path, ids: list[int], tokens: list[str], expected: int) -> Path:
    """A wrk script claiming `ids` in turn with `tokens` in turn, counting the answers whose status is not
    `expected`."""
    script = folder / f"claims-{expected}.lua"
    ids_text, tokens_text = ",".join(map(str, ids)), ",".join(f'"{t}"' for t in tokens)
    script.write_text(LUA % {"ids": ids_text, "tokens": tokens_text, "expected": expected})
    return script


def run(url: str, seconds: float, rounds: int, wishes: int, folder: Path) -> dict:
    """Prepare, serve and measure each kind of request on one database, in `rounds` rounds one after the other
    (a machine's speed drifts: each kind gets its share of the good and the bad moments); the wrk numbers of
    each round by kind."""
    backend = url.split("://")[0].split("+")[0]
    progress(f"{backend}: preparing {MEMBERS} members with tokens and {wishes} published wishes")
    config, ids, tokens = claim_race.prepare(url, MEMBERS, wishes)
    rates = {kind: [] for kind in NAMES}
    with common.gunicorn("bench.hello:app", extra=claim_race.GUNICORN_FLAGS) as base:
        progress(f"{backend}: a bare Flask page, {seconds:g} s")
        rates["hello"].append(wrk(f"{base}/", seconds))
    taken: list[int] = []
    with common.gunicorn("bench.onegrid_wsgi:app", config, extra=claim_race.GUNICORN_FLAGS) as base:
        for round_ in range(1, rounds + 1):
            progress(
                f"{backend}: round {round_} of {rounds}: /healthz, won claims, lost claims, {seconds:g} s each"
            )
            rates["healthz"].append(wrk(f"{base}/healthz", seconds))
            done = set(taken)
            free = [wish_id for wish_id in ids if wish_id not in done]
            won = wrk(base, seconds, claims_script(folder, free, list(tokens), 200))
            rates["won"].append(won)
            if won["requests"] >= len(free):
                raise BenchFailure(
                    f"{len(ids)} wishes were too few for {rounds} × {seconds:g} s: raise --wishes"
                )
            # any job the claims recorded, run by the server after its answers
            if claim_race.drain(url, 120) is None:
                raise BenchFailure("jobs still pending 120 s after the won claims")
            before, taken = len(taken), claimed(url)
            # wrk counts the answers it read before its time was up: the requests in flight then were served too
            if len(taken) - before < won["requests"]:
                raise BenchFailure(
                    f"{won['requests']} claims won, but {len(taken) - before} wishes were claimed"
                )
            rates["lost"].append(wrk(base, seconds, claims_script(folder, taken, list(tokens), 409)))
    check(rates)
    return rates


def claimed(url: str) -> list[int]:
    """The ids of the wishes claimed, from the database; a wish with two claim steps fails."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Wish, WishStep
    from app.models.choices import WishAction, WishStatus

    app = common.make_app(common.bench_config(url))
    with app.app_context():
        try:
            twice = db.session.scalar(
                select(func.count()).select_from(
                    select(WishStep.wish_id)
                    .where(WishStep.action == WishAction.CLAIM)
                    .group_by(WishStep.wish_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            if twice:
                raise BenchFailure(f"{twice} wishes were claimed twice")
            return list(db.session.scalars(select(Wish.id).where(Wish.status == WishStatus.CLAIMED)))
        finally:
            db.engine.dispose()


def check(rates: dict) -> None:
    for kind, runs in rates.items():
        for measured in runs:
            if measured["sockets"]:
                raise BenchFailure(f"{kind}: {measured['sockets']} socket errors")
            if measured["unexpected"]:
                expected = {"won": "200", "lost": "409"}.get(kind, "2xx")
                raise BenchFailure(f"{kind}: {measured['unexpected']} answers were not {expected}")


def report(backend: str, rates: dict, losers: float) -> None:
    def median(kind: str, key: str) -> float:
        return statistics.median(run[key] for run in rates[kind])

    rounds = len(rates["won"])
    print(f"\n{backend}: each kind of request served flat out alone (median of {rounds} rounds, range)")
    print(f"{'request':<38}{'requests/s':>11}{'range':>12}{'CPU ms':>8}{'range':>13}{'idle':>6}")
    for kind, name in NAMES.items():
        rps, cpu = sorted(run["rps"] for run in rates[kind]), sorted(run["cpu_ms"] for run in rates[kind])
        print(
            f"{name:<38}{median(kind, 'rps'):>11.1f}{f'{rps[0]:.0f}–{rps[-1]:.0f}':>12}"
            f"{median(kind, 'cpu_ms'):>8.2f}{f'{cpu[0]:.2f}–{cpu[-1]:.2f}':>13}{median(kind, 'idle'):>6.0%}"
        )
    print(
        "(CPU ms: the machine's CPU time per answer, everyone's: server, database and wrk; idle: its unused share)"
    )
    won, lost = median("won", "cpu_ms"), median("lost", "cpu_ms")
    target = TARGETS[backend]
    found = ceiling(won, lost, losers, os.cpu_count() or 1, target)
    print(
        f"\nthe race, with {losers:g} loser(s) per won claim, spends at least {found['per_claim']:.1f} CPU ms a claim "
        f"(a won claim costs {won / lost:.1f} lost ones): at most {found['bound']:.0f} claims/s (target {target})"
    )
    if found["cut"] > 0:
        print(
            f"{target} claims/s leaves {found['budget']:.1f} CPU ms a claim: the claims would have to cost "
            f"{found['cut']:.0%} less CPU, won and lost alike"
        )


def ceiling(won: float, lost: float, losers: float, cores: int, target: float) -> dict:
    """The bound of the race's claims/s from the CPU ms of a won and a lost claim: each claim costs at least one
    won and `losers` lost claims, and `cores` give cores × 1000 CPU ms a second. Also the CPU ms a claim may cost
    at `target` claims/s and the share by which today's cost would have to fall to reach it (≤ 0: it is reached)."""
    per_claim = won + losers * lost
    budget = cores * 1000 / target
    return {
        "per_claim": per_claim,
        "bound": cores * 1000 / per_claim,
        "budget": budget,
        "cut": 1 - budget / per_claim,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument(
        "--seconds", type=float, default=5, help="seconds of each kind of request, each round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of /healthz, won and lost claims")
    parser.add_argument(
        "--wishes", type=int, default=6000, help="published wishes to claim (more than claimed)"
    )
    parser.add_argument("--losers-per-won", type=float, default=1.0, help="the race's losers per won claim")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("FAILED: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 1
    try:
        with common.database_url(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
            backend = url.split("://")[0].split("+")[0]
            rates = run(url, args.seconds, args.rounds, args.wishes, Path(folder))
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    report(backend, rates, args.losers_per_won)
    return 0


if __name__ == "__main__":
    sys.exit(main())
