"""seed scale: the Weicheng preset (296,166 residents, 66,992 events …) generated into a fresh database, timed.

In one run: the schema is created anew (SQLite: a temporary file; PostgreSQL: the database given, ALL ITS
TABLES DROPPED), then `generate()` writes the preset in one transaction through Core executemany, then the
commit and ANALYZE (VACUUM ANALYZE on PostgreSQL). Afterwards every table must hold the preset's exact counts.
Target: under 60 s on SQLite.

    .venv/bin/python bench/seed_scale.py                                   # SQLite file
    .venv/bin/python bench/seed_scale.py --database-url postgresql://127.0.0.1:5432/DB
    .venv/bin/python bench/seed_scale.py --preset xingping

Exit status 1 when a count is wrong, 2 when the target is missed.
"""

import argparse
import sys
import time
from datetime import date

import common
from common import BenchFailure, progress

TARGET_SECONDS = 60


def expected_counts(preset) -> dict[str, int]:
    return {
        "compound": preset.compounds,
        "building": preset.buildings,
        "room": preset.rooms,
        "household": preset.households,
        "resident": preset.residents,
        "enterprise": preset.enterprises,
        "facility": preset.facilities,
        "unit": preset.units,
        "member": preset.members,
        "event": preset.events,
        "wish": preset.wishes,
        "area": 1 + len(preset.streets) + preset.communities + preset.grids,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--preset", default="weicheng")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    common.stop_on_sigterm()
    try:
        with common.database_url(args.database_url) as url:
            app = common.make_app(common.bench_config(url, PASSWORD_HASH_METHOD="scrypt"))
            with app.app_context():
                from app.extensions import db
                from app.services import scale

                preset = scale.PRESETS[args.preset]
                db.drop_all()
                db.create_all()
                dialect = db.engine.dialect.name
                progress(f"generating the {preset.name} preset on {dialect}")
                started = time.perf_counter()
                scale.generate(preset, seed=args.seed, as_of=date(2026, 11, 26))
                generated = time.perf_counter()
                db.session.commit()
                committed = time.perf_counter()
                scale.analyze()
                finished = time.perf_counter()
                counts = scale.row_counts()
                wrong = {k: (counts[k], n) for k, n in expected_counts(preset).items() if counts[k] != n}
                if wrong:
                    raise BenchFailure(f"counts differ from the preset (got, expected): {wrong}")
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    rows = sum(counts.values())
    total = finished - started
    print(
        f"\n{preset.name} preset on {dialect}: {rows:,} rows in {len(counts)} tables "
        f"(residents {counts['resident']:,}, events {counts['event']:,}, event steps {counts['event_step']:,})"
    )
    print(f"{'stage':<34}{'s':>8}")
    print(f"{'generate + insert (one transaction)':<34}{generated - started:>8.1f}")
    print(f"{'commit':<34}{committed - generated:>8.1f}")
    print(f"{'ANALYZE':<34}{finished - committed:>8.1f}")
    print(f"{'total':<34}{total:>8.1f}   ({rows / total:,.0f} rows/s)")
    if dialect != "sqlite":
        return 0
    ok = total < TARGET_SECONDS
    print(f"\ntarget < {TARGET_SECONDS} s on SQLite: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
