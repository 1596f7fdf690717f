"""Bulk import of residents: 10,000 rows through the import service and the CLI against a bare executemany.

The rows are valid residents of the five grids of 渭阳街道 (the demo street), half of them placed in a
recorded building and room, imported as the demo street administrator (so every row's scope is checked).
In one run and on the same database, each measured `--repeat` times (best kept), the imported rows
deleted between runs:
- floor — one SQLAlchemy Core `executemany` INSERT of the very rows the service would write, then commit;
- service, CSV and XLSX — `import_residents()` on the file's bytes (read, check every row, look up
  grids/buildings/rooms/households/duplicates, insert, audit), then commit;
- CLI — `flask --app wsgi import residents FILE.csv --as street` in a new process (interpreter and app
  start-up included).
Targets: the service and the CLI each import 10,000 rows in under 10 s.

    .venv/bin/python bench/import_residents.py                      # SQLite file
    .venv/bin/python bench/import_residents.py --database-url postgresql://127.0.0.1:5432/DB

Exit status 1 when a check fails (rows missing or refused), 2 when a target is missed.
"""

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta

import common
from common import ROOT, BenchFailure, progress

STREET = "610404001"
TARGET_SECONDS = 10


def make_rows(count: int, seed: int = 10_000) -> tuple[list[str], list[list[str]]]:
    """Headers and `count` valid rows in the street's grids; half of them in a recorded room."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Building, Room
    from app.models.base import under_area
    from app.services.demo import GIVEN, SURNAMES
    from app.services.idcard import make_id_number

    rng = random.Random(seed)
    rooms = db.session.execute(
        select(Building.grid_code, Building.name, Room.number)
        .join(Room.building)
        .where(under_area(Building.grid_code, STREET))
    ).all()
    grids = sorted({g for g, _b, _r in rooms})
    headers = ["姓名", "身份证号", "手机号", "网格编码", "楼栋", "房间号", "与户主关系", "民族", "标签"]
    rows = []
    for n in range(count):
        birth = date(1930, 1, 1) + timedelta(days=n // 500 * 7 + 3)  # ≤ 500 a day: sequences 500–999
        id_number = make_id_number("610404", birth, 500 + n % 500)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if n % 2:
            grid, building, room = rng.choice(rooms)
        else:
            grid, building, room = rng.choice(grids), "", ""
        rows.append(
            [
                name,
                id_number,
                f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                grid,
                building,
                room,
                rng.choice(["户主", "配偶", "子女", ""]),
                "汉族",
                "独居老人" if n % 37 == 0 else "",
            ]
        )
    return headers, rows


def as_csv(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(headers, rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def delete_imported(id_numbers: list[str]) -> None:
    from sqlalchemy import delete

    from app.extensions import db
    from app.models import Resident

    for start in range(0, len(id_numbers), 500):
        db.session.execute(delete(Resident).where(Resident.id_number.in_(id_numbers[start : start + 500])))
    db.session.commit()


def count_imported(id_numbers: list[str]) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Resident

    return sum(
        db.session.scalar(
            select(func.count()).select_from(Resident).where(Resident.id_number.in_(id_numbers[s : s + 500]))
        )
        for s in range(0, len(id_numbers), 500)
    )


def final_rows(data: bytes, actor) -> list[dict]:
    """The column values the service would insert for the file (for the floor), computed untimed."""
    from app.models.base import utcnow
    from app.services.imports import read_rows
    from app.services.resident_rows import Checker

    rows, _ignored = read_rows("bench.csv", data)
    checker = Checker(actor, rows)
    values = []
    for number, raw in rows:
        resident, errors = checker.check(number, raw)
        if errors:
            raise BenchFailure(f"row {number} of the generated file is refused: {errors}")
        resident.pop("_room_id")
        values.append({**resident, "created_at": utcnow()})
    return values


def timed(action, id_numbers: list[str]) -> float:
    """Seconds `action` takes to insert and commit every row; checks they are all there, then deletes them."""
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    if (found := count_imported(id_numbers)) != len(id_numbers):
        raise BenchFailure(f"{found} of {len(id_numbers)} rows are in the database")
    delete_imported(id_numbers)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="each path measured this many times (best kept)"
    )
    args = parser.parse_args()
    common.stop_on_sigterm()
    results: dict[str, float] = {}
    try:
        with common.database_url(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
            app = common.make_app(common.bench_config(url))
            with app.app_context():
                from sqlalchemy import insert, select

                from app.extensions import db
                from app.models import Resident, User
                from app.services.imports import import_residents

                progress(f"preparing the demo district and {args.rows:,} rows")
                common.reset_database()
                street = db.session.scalar(select(User).where(User.username == "street"))
                headers, rows = make_rows(args.rows)
                id_numbers = [r[1] for r in rows]
                csv_data, xlsx_data = as_csv(headers, rows), as_xlsx(headers, rows)
                csv_path = os.path.join(folder, "residents.csv")
                with open(csv_path, "wb") as fh:
                    fh.write(csv_data)
                floor_rows = final_rows(csv_data, street)
                street_id = street.id
                db.session.rollback()

                def floor():
                    db.session.execute(insert(Resident.__table__), floor_rows)
                    db.session.commit()

                def service(filename, data):
                    def run():
                        result = import_residents(filename, data, db.session.get(User, street_id))
                        db.session.commit()
                        if result.errors or result.imported != len(rows):
                            raise BenchFailure(
                                f"the service imported {result.imported}, errors {result.errors[:3]}"
                            )

                    return run

                env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "PYTHONPATH": ROOT}

                def cli():
                    db.session.remove()  # let the other process write (SQLite) and see it afterwards
                    done = subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "flask",
                            "--app",
                            "wsgi",
                            "import",
                            "residents",
                            csv_path,
                            "--as",
                            "street",
                        ],
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    if done.returncode != 0:
                        raise BenchFailure("the CLI failed: " + done.stderr[-2000:])

                def start_up():  # what the CLI pays before reading a row: interpreter, imports, create_app
                    started = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-m", "flask", "--app", "wsgi", "import", "--help"],
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        check=True,
                        timeout=120,
                    )
                    return time.perf_counter() - started

                paths = [
                    ("floor: Core executemany + commit", floor),
                    ("service, CSV (UTF-8)", service("residents.csv", csv_data)),
                    ("service, XLSX", service("residents.xlsx", xlsx_data)),
                    ("CLI, CSV (new process)", cli),
                ]
                for round_ in range(args.repeat):
                    progress(f"round {round_ + 1} of {args.repeat}")
                    for label, action in paths:
                        seconds = timed(action, id_numbers)
                        results[label] = min(results.get(label, seconds), seconds)
                startup = min(start_up() for _ in range(args.repeat))
                dialect = db.engine.dialect.name
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    floor_seconds = results["floor: Core executemany + commit"]
    print(f"\n{args.rows:,} residents on {dialect}, best of {args.repeat}")
    print(f"{'path':<38}{'s':>8}{'rows/s':>10}{'× floor':>9}")
    for label, seconds in results.items():
        print(f"{label:<38}{seconds:>8.2f}{args.rows / seconds:>10,.0f}{seconds / floor_seconds:>9.1f}")
    print(f"{'(CLI start-up alone: import --help)':<38}{startup:>8.2f}")
    slowest = max(v for k, v in results.items() if not k.startswith("floor"))
    ok = slowest < TARGET_SECONDS * args.rows / 10_000
    print(
        f"\nslowest import path: {slowest:.2f} s  target < {TARGET_SECONDS * args.rows / 10_000:g} s: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
