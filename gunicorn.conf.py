"""gunicorn's settings, read from the directory it starts in: warns when workers would keep rate limits alone."""


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
