"""Board throughput: GET / of OneGrid against a minimal Flask page, same gunicorn setup, measured with wrk.

With a few thousand published wishes in the database, both servers run side by side (2 sync
workers each) and wrk loads them in turn, hello/board/hello/board…; the ratio of their requests per
second is what counts, since wrk and the servers share the machine's cores alike. Target: ≥ 0.30.

    .venv/bin/python bench/board_throughput.py [--wishes 3000] [--duration 10] [--database-url URL]

Exit status: 1 when a check fails (the board does not render, wrk saw errors), 2 when the target is missed.
"""

import argparse
import sys

import common
from common import BenchFailure, progress

TARGET = 0.30
GUNICORN_FLAGS = ("-k", "sync")


def prepare(url: str, wishes: int) -> tuple[dict, str]:
    """Seed the database; returns the app configuration and the title of the newest bench wish."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Area

    config = common.bench_config(url)
    app = common.make_app(config)
    with app.app_context():
        common.reset_database()
        grids = list(db.session.scalars(select(Area.code).where(Area.level == "grid").order_by(Area.code)))
        added = common.add_published_wishes(wishes, grids)
        db.engine.dispose()
    return config, added[-1][1]


def check_pages(hello: str, board: str, newest_title: str) -> None:
    """Both pages answer 200, and the board lists the newest wish: the load hits a real board."""
    status, body = common.fetch(hello + "/")
    if status != 200 or body != "hello":
        raise BenchFailure(f"hello page answered {status}: {body[:200]!r}")
    status, body = common.fetch(board + "/")
    if status != 200:
        raise BenchFailure(f"the board (/) answered {status}, not 200")
    if newest_title not in body:
        raise BenchFailure(f"the board (/) does not list the newest published wish {newest_title!r}")
    progress(f"checked: / answers 200 and lists {newest_title!r} ({len(body.encode()) // 1024} KiB)")


def measure(targets: dict, rounds: int, seconds: float, connections: int) -> list[tuple[str, dict]]:
    """Warm both servers up, then alternate wrk runs; returns (name, numbers) per run."""
    for name, url in targets.items():
        progress(f"warming up {name}")
        common.run_wrk(url, 2, connections=connections)
    runs = []
    for round_no in range(1, rounds + 1):
        for name, url in targets.items():
            progress(f"round {round_no}/{rounds}: wrk {seconds:g} s against {name}")
            runs.append((name, common.run_wrk(url, seconds, connections=connections)))
    return runs


def report(runs: list[tuple[str, dict]]) -> float:
    """Print the runs and the summary; returns the ratio board/hello."""
    print(f"\n{'run':<7}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in runs:
        print(
            f"{name:<7}{r['requests']:>10}{r['rps']:>10.1f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8}"
        )
    mean = {
        name: sum(r["rps"] for n, r in runs if n == name) / sum(1 for n, _ in runs if n == name)
        for name in ("hello", "board")
    }
    p99 = {name: max(r["p99"] for n, r in runs if n == name) for name in ("hello", "board")}
    ratio = mean["board"] / mean["hello"]
    print(f"\nhello: {mean['hello']:.1f} req/s, p99 {p99['hello']:.2f} ms (worst run)")
    print(f"board: {mean['board']:.1f} req/s, p99 {p99['board']:.2f} ms (worst run)")
    print(f"ratio board/hello: {ratio:.2f}  target ≥ {TARGET:.2f}: {'PASS' if ratio >= TARGET else 'FAIL'}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--wishes", type=int, default=3000, help="published wishes to add (default 3000)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="hello/board pairs of runs (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16, 2 threads)")
    args = parser.parse_args()
    common.stop_on_sigterm()
    try:
        with common.database_url(args.database_url) as url:
            progress(f"preparing {url.split('://')[0]} database with {args.wishes} published wishes")
            config, newest_title = prepare(url, args.wishes)
            progress("starting gunicorn: hello and board, 2 sync workers each")
            with (
                common.gunicorn("bench.hello:app", extra=GUNICORN_FLAGS) as hello,
                common.gunicorn("bench.onegrid_wsgi:app", config, extra=GUNICORN_FLAGS) as board,
            ):
                check_pages(hello, board, newest_title)
                runs = measure(
                    {"hello": hello + "/", "board": board + "/"}, args.rounds, args.duration, args.connections
                )
                check_pages(hello, board, newest_title)  # still a board after the load, not an error page
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    ratio = report(runs)
    errors = sum(r["errors"] for _, r in runs)
    if errors:
        print(f"FAILED: wrk saw {errors} errors (timeouts or non-2xx answers)", file=sys.stderr)
        return 1
    return 0 if ratio >= TARGET else 2


if __name__ == "__main__":
    sys.exit(main())
