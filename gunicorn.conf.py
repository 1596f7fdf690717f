"""gunicorn's settings, read from the directory it starts in: warns when workers would keep rate limits alone,
and tunes each worker's garbage collector once the app is loaded."""

import gc
import os


def collector_thresholds(value: str) -> tuple[int, ...]:
    """GC_THRESHOLDS as the collector takes them; a clear error for anything but one to three whole numbers."""
    try:
        thresholds = tuple(int(n) for n in value.split(","))
    except ValueError:
        thresholds = ()
    if not 1 <= len(thresholds) <= 3 or any(n < 0 for n in thresholds):
        raise SystemExit(
            f"GC_THRESHOLDS must be one to three whole numbers, e.g. 50000,50,100 (not {value!r})"
        )
    return thresholds


# the collector's thresholds in each worker (GC_THRESHOLDS="gen0,gen1,gen2"): a request allocates thousands of
# objects (rows, ORM instances), so at Python's default of 700 the youngest generation is collected several
# times a request; at 50,000 once every few requests, and each collection is cheaper once the app's own
# objects are frozen out of it (bench/README.md, the claim race: 7-13 % of the server's CPU)
GC_THRESHOLDS = collector_thresholds(os.environ.get("GC_THRESHOLDS", "50000,50,100"))


def lone_counters_warning(workers: int, storage_uri: str) -> str | None:
    """The warning for `workers` processes counting login attempts in `storage_uri`, or None when they share."""
    if workers > 1 and storage_uri.startswith("memory://"):
        return (
            f"OneGrid: {workers} workers keep their rate-limit counts in memory, each its own: login limits "
            f"are {workers} times looser than set. Set REDIS_URL (or RATELIMIT_STORAGE_URI) so they share."
        )
    return None


def on_starting(server):
    """Once, in the master, before any worker starts (the app itself is loaded by each worker)."""
    from app.config import Config

    message = lone_counters_warning(server.cfg.workers, Config.RATELIMIT_STORAGE_URI)
    if message:
        server.log.warning(message)


def post_worker_init(worker):
    """In each worker, once the app is loaded: its objects (modules, models, compiled statements) are frozen
    out of the collector's work, and the young generation is collected less often."""
    tune_collector(GC_THRESHOLDS)


def tune_collector(thresholds: tuple[int, ...]) -> None:
    gc.freeze()
    gc.set_threshold(*thresholds)
