"""A 4 MB phone JPEG accepted and thumbnailed in under a second: the photo service against a bare Pillow open+save.

    .venv/bin/python bench/attachments.py                # SQLite file, files storage
    .venv/bin/python bench/attachments.py --storage database --database-url postgresql://127.0.0.1:5432/onegrid_bench

It makes a 4032 × 3024 JPEG of about 4 MB (noise over a gradient, as a phone photo of a street: hard to compress),
with GPS and an orientation in its EXIF, and times, as the median of --runs:

- bare:     Image.open + load + save as JPEG (quality 85) at full size — what any photo handling costs at least;
- prepare:  app.services.images.prepare — sniff, bomb check, decode (a JPEG at a reduced DCT scale when that keeps
            90 % of the 2048 px cap: this one at 1/2, 2016 px), upright, cap, re-encode without metadata, thumbnail;
- upload:   POST /api/v1/events/<id>/attachments with the file, through the test client: the above plus parsing
            the multipart body, storage (files or database) and the attachment row, committed.

It checks that every upload got 201 and the stored photo has no EXIF, stands upright and has a long side within
90–100 % of ATTACHMENT_MAX_PIXELS_SIDE, and prints the times and their ratios to the bare save.
Exit status: 0 when upload < 1 s; 1 when a check fails; 2 when it is slower.
"""

import argparse
import io
import statistics
import sys
import tempfile
import time

import common
from PIL import Image, ImageOps

TARGET_BYTES = 4 * 1024 * 1024
LIMIT_SECONDS = 1.0


def phone_jpeg() -> bytes:
    """About 4 MB: a 12 MP picture of noise over a gradient, stored sideways, with GPS."""
    width, height = 4032, 3024
    gradient = Image.linear_gradient("L").resize((width, height))
    bands = [
        Image.blend(gradient, Image.effect_noise((width, height), sigma).convert("L"), 0.5)
        for sigma in (40, 55, 70)
    ]
    image = Image.merge("RGB", bands)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (34.0, 19.0, 48.0), 3: "E", 4: (108.0, 42.0, 36.0)})
    best = b""
    for quality in (70, 75, 80, 85, 88, 90, 92, 94, 96):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, exif=exif)
        best = out.getvalue()
        if len(best) >= TARGET_BYTES * 0.95:
            break
    return best


def timed(action, runs: int) -> float:
    times = []
    for _n in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    image.save(io.BytesIO(), "JPEG", quality=85)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help=common.DATABASE_URL_HELP)
    parser.add_argument("--storage", choices=("files", "database"), default="files")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = phone_jpeg()
    common.progress(f"phone JPEG: {len(data) / 1_048_576:.2f} MB, {Image.open(io.BytesIO(data)).size}")
    with common.database_url(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        app = common.make_app(common.bench_config(url, STORAGE=args.storage, STORAGE_DIR=folder))
        with app.app_context():
            from sqlalchemy import select

            from app.extensions import db
            from app.models import Attachment, User
            from app.services import events, storage
            from app.services.demo import DEMO_PASSWORDS
            from app.services.images import prepare

            common.reset_database()
            resident = db.session.scalar(select(User).where(User.username == "resident"))
            event, _created = events.report_event(
                resident,
                title="路灯不亮",
                description="bench",
                matter_code="HW-001",
                grid_code=resident.area_code,
                location_text="3号楼",
            )
            db.session.commit()
            event_id = event.id

            bare_s = timed(lambda: bare(data), args.runs)
            prepare_s = timed(lambda: prepare(data), args.runs)
            client = app.test_client()
            token = client.post(
                "/api/v1/auth/token", json={"username": "resident", "password": DEMO_PASSWORDS["resident"][0]}
            ).get_json()["token"]
            answers = []

            def upload():
                answers.append(
                    client.post(
                        f"/api/v1/events/{event_id}/attachments",
                        data={"file": (io.BytesIO(data), "IMG_0001.jpg")},
                        headers={"Authorization": f"Bearer {token}"},
                        content_type="multipart/form-data",
                    )
                )

            upload_s = timed(upload, min(args.runs, 9))  # at most 9 photos per report
            failed = [a.status_code for a in answers if a.status_code != 201]
            row = db.session.scalar(select(Attachment).order_by(Attachment.id.desc()))
            stored = Image.open(io.BytesIO(storage.open_file(row.image_key).read()))
            upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size
            checks_ok = (
                not failed
                and len(stored.getexif()) == 0
                and 0.9 * app.config["ATTACHMENT_MAX_PIXELS_SIDE"]
                <= max(stored.size)
                <= app.config["ATTACHMENT_MAX_PIXELS_SIDE"]
                and (stored.width < stored.height) == (upright[0] < upright[1])
            )
    print(f"bare Pillow open+save (full size) : {bare_s * 1000:7.0f} ms")
    print(
        f"prepare (check, upright, 2048, thumbnail): {prepare_s * 1000:7.0f} ms  ratio {prepare_s / bare_s:.2f}"
    )
    print(
        f"upload through the API ({args.storage} storage): {upload_s * 1000:7.0f} ms  ratio {upload_s / bare_s:.2f}"
        f"  (target < {LIMIT_SECONDS * 1000:.0f} ms)"
    )
    print(
        f"stored: {stored.format} {stored.size[0]} × {stored.size[1]}, EXIF entries {len(stored.getexif())}"
    )
    if not checks_ok:
        print(f"CHECK FAILED: answers {failed}, stored {stored.size}, EXIF {dict(stored.getexif())}")
        return 1
    return 0 if upload_s < LIMIT_SECONDS else 2


if __name__ == "__main__":
    sys.exit(main())
