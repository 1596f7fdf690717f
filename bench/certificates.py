"""Certificates: the raw WeasyPrint render rate against the end-to-end rate through real RQ workers.

One run, one database, one template:
1. raw — render honour certificates one after the other in this process (render_certificate_pdf,
   nothing stored), certificates per second;
2. end to end, 1 worker — an honour batch of `--sample` members is started (rows + outbox jobs,
   committed, pushed to Redis) while one `flask jobs worker` waits; the clock stops when the last PDF
   is stored and the batch shows done = total; certificates per second per worker;
3. full scale, 2 workers — an honour batch for the whole district, `--members` members (2,300 by
   default, Weicheng's checked-in members), with two workers; the time until every PDF is stored.
Targets: end-to-end ≥ 0.5 × raw, and the full batch in under 180 s.

    .venv/bin/python bench/certificates.py                 # SQLite file, Redis db 9 (emptied)
    .venv/bin/python bench/certificates.py --database-url postgresql://127.0.0.1:5432/DB --members 500

Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/9 — that database is emptied). Exit status 1
when a check fails (a certificate not rendered, a duplicate, a PDF that is not one), 2 when a target is
missed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

import common
from common import BenchFailure, progress

FIRST_PERIOD = (date(2026, 10, 1), date(2026, 10, 31))  # the sample's hours
SECOND_PERIOD = (date(2026, 11, 1), date(2026, 11, 25))  # everyone's hours


def add_members_with_hours(count: int, sample: int) -> None:
    """`count` members across the demo grids, each with a confirmed wish in the second period; the first
    `sample` of them also one in the first period. Bulk inserts."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Area, Member, User, Wish, WishCategory

    grids = list(db.session.scalars(select(Area.code).where(Area.level == "grid").order_by(Area.code)))
    owner = db.session.scalar(select(User).where(User.username == "resident"))
    category_id = db.session.scalar(select(WishCategory.id).order_by(WishCategory.position))
    ids = db.session.scalars(
        insert(Member).returning(Member.id, sort_by_parameter_order=True),
        [
            {
                "name": f"{common.TASKS[i % len(common.TASKS)][:1]}志愿者{i:04d}",
                "grid_code": grids[i % len(grids)],
                "service_hours": 0,
                "active": True,
            }
            for i in range(count)
        ],
    ).all()
    wishes = []
    for n, member_id in enumerate(ids):
        periods = [SECOND_PERIOD] + ([FIRST_PERIOD] if n < sample else [])
        for first, _last in periods:
            at = datetime.combine(first + timedelta(days=3), datetime.min.time(), UTC)
            wishes.append(
                {
                    "title": f"{common.TASKS[n % len(common.TASKS)]} #{n:04d}",
                    "category_id": category_id,
                    "grid_code": grids[n % len(grids)],
                    "owner_id": owner.id,
                    "posted_by_id": owner.id,
                    "status": "confirmed",
                    "claimed_by_id": member_id,
                    "hours": 2,
                    "rating": "good",
                    "created_at": at,
                    "updated_at": at,
                    "published_at": at,
                    "claimed_at": at,
                    "done_at": at,
                    "confirmed_at": at,
                    "respond_by": at,
                    "reply_by": at,
                    "resolve_by": at,
                }
            )
    db.session.execute(insert(Wish), wishes)
    db.session.commit()


def start_workers(app, count: int, certificate_dir: str, running: int = 0) -> list[subprocess.Popen]:
    """`count` more real `flask jobs worker` processes on the app's database and Redis (beside `running`
    ones), returned once all are registered and idle."""
    from rq import Worker

    from app.jobs.queue import get_queue

    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": "bench",
        "CERTIFICATE_DIR": certificate_dir,
        "PYTHONPATH": common.ROOT,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
            cwd=common.ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    deadline = time.monotonic() + 60
    while Worker.count(queue=get_queue(app)) < running + count:
        if time.monotonic() > deadline:
            raise BenchFailure("workers did not start within 60 s")
        time.sleep(0.2)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def run_batch(app, period: tuple[date, date], timeout: float) -> tuple[int, float]:
    """Start the district's honour batch for `period` and wait until every PDF is stored: (certificates, seconds)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Area, User
    from app.services.certificate_batches import HonourBatch, start_honour_batch

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        district = db.session.scalar(select(Area.code).where(Area.level == "district"))
        started = time.monotonic()
        batch, added = start_honour_batch(admin, f"area:{district}", *period)
        batch_id = batch.id
        db.session.commit()  # the render jobs are pushed to Redis right after this commit
        while True:
            db.session.expire_all()
            batch = db.session.get(HonourBatch, batch_id)
            if batch.done >= batch.total:
                return added, time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise BenchFailure(f"batch not finished after {timeout:.0f} s: {batch.done}/{batch.total}")
            db.session.remove()
            time.sleep(0.2)


def raw_rate(app, count: int) -> float:
    """Certificates per second rendering the sample batch's certificates in this process, nothing stored."""
    from sqlalchemy import select

    from app.extensions import db
    from app.services.certificate_pdf import render_certificate_pdf
    from app.services.certificates import Certificate

    with app.app_context():
        certificates = list(db.session.scalars(select(Certificate).order_by(Certificate.id).limit(count)))
        render_certificate_pdf(certificates[0])  # warm: fonts and templates loaded once per process
        started = time.monotonic()
        for certificate in certificates:
            pdf = render_certificate_pdf(certificate)
            if not pdf.startswith(b"%PDF"):
                raise BenchFailure("the renderer did not produce a PDF")
        return len(certificates) / (time.monotonic() - started)


def check_all_rendered(app, certificate_dir: str) -> int:
    """Every certificate ready, one per member and batch, each with a PDF on disk; how many."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.services.certificates import Certificate

    with app.app_context():
        rows = db.session.execute(
            select(Certificate.batch_id, Certificate.member_id, Certificate.status, Certificate.serial)
        ).all()
        duplicates = db.session.scalar(
            select(func.count()).select_from(
                select(Certificate.batch_id, Certificate.member_id)
                .group_by(Certificate.batch_id, Certificate.member_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    if duplicates:
        raise BenchFailure(f"{duplicates} member(s) got two certificates in one batch")
    not_ready = [r.serial for r in rows if r.status != "ready"]
    if not_ready:
        raise BenchFailure(f"{len(not_ready)} certificate(s) not ready, e.g. {not_ready[0]}")
    for row in rows:
        with open(os.path.join(certificate_dir, f"{row.serial}.pdf"), "rb") as pdf:
            if pdf.read(5) != b"%PDF-":
                raise BenchFailure(f"{row.serial}.pdf is not a PDF")
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/9", help="this Redis database is emptied"
    )
    parser.add_argument("--members", type=int, default=2300, help="members in the full-scale batch")
    parser.add_argument("--sample", type=int, default=200, help="certificates for the raw and 1-worker runs")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    common.stop_on_sigterm()

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    certificate_dir = tempfile.mkdtemp(prefix="onegrid-certificates-")
    workers: list = []
    try:
        with common.database_url(args.database_url) as url:
            app = common.make_app(
                common.bench_config(url, REDIS_URL=args.redis_url, CERTIFICATE_DIR=certificate_dir)
            )
            with app.app_context():
                progress(f"preparing the demo district and {args.members} members with confirmed hours")
                common.reset_database()
                add_members_with_hours(args.members, args.sample)
            progress("starting 1 worker")
            workers = start_workers(app, 1, certificate_dir)
            progress(f"end to end, 1 worker: a batch of {args.sample}")
            sample, sample_seconds = run_batch(app, FIRST_PERIOD, args.timeout)
            end_to_end = sample / sample_seconds
            progress(f"raw: rendering the same {args.sample} certificates in this process")
            raw = raw_rate(app, args.sample)
            progress("starting a second worker")
            workers += start_workers(app, 1, certificate_dir, running=len(workers))
            progress(f"full scale, 2 workers: a batch of {args.members}")
            full, full_seconds = run_batch(app, SECOND_PERIOD, args.timeout)
            stop_workers(workers)
            workers = []
            total = check_all_rendered(app, certificate_dir)
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; workers stopped", file=sys.stderr)
        return 130
    finally:
        stop_workers(workers)
        shutil.rmtree(certificate_dir, ignore_errors=True)

    ratio = end_to_end / raw
    print(f"\n{'run':<34}{'certificates':>13}{'seconds':>9}{'per second':>12}")
    print(f"{'raw render, 1 process':<34}{args.sample:>13}{args.sample / raw:>9.1f}{raw:>12.1f}")
    print(f"{'end to end, 1 worker':<34}{sample:>13}{sample_seconds:>9.1f}{end_to_end:>12.1f}")
    print(
        f"{'end to end, 2 workers (district)':<34}{full:>13}{full_seconds:>9.1f}{full / full_seconds:>12.1f}"
    )
    print(f"\nall {total} certificates ready, one per member and batch, every file a PDF")
    ok_ratio, ok_full = ratio >= 0.5, full_seconds < 180
    print(f"end-to-end / raw: {ratio:.2f}  target ≥ 0.50: {'PASS' if ok_ratio else 'FAIL'}")
    print(
        f"{full} certificates with 2 workers: {full_seconds:.0f} s  target < 180 s: {'PASS' if ok_full else 'FAIL'}"
    )
    return 0 if ok_ratio and ok_full else 2


if __name__ == "__main__":
    sys.exit(main())
