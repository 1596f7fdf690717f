"""Background jobs: the handlers the outbox runs, by kind, and the periodic tasks, in one registry.

A handler takes ids and plain values (never ORM objects), flushes its changes and returns; the
runner (app.jobs.outbox.run_message, or run_messages for a batch) owns the transaction. Handlers live in
the modules of this package and register themselves with `@job("kind")`.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

HANDLERS: dict[str, Callable] = {}
# the kinds whose handlers only write to the database: the embedded runner may run several messages of them
# in one transaction (docs/jobs.md#the-outbox); a handler that talks to the world (a webhook, a rendering)
# runs alone, so that a neighbour's failure never makes it run twice
BATCHED: set[str] = set()
PERIODIC: dict[str, "Periodic"] = {}


@dataclass(frozen=True)
class Periodic:
    """A task the scheduler runs every `seconds`; it must be idempotent (two schedulers may overlap)."""

    name: str
    seconds: int
    function: Callable

    @property
    def path(self) -> str:
        return f"{self.function.__module__}.{self.function.__name__}"


def job(kind: str, *, batched: bool = False):
    """Register the decorated function as the handler of outbox messages of `kind`; `batched`: it only writes
    to the database, so several of its messages may share a transaction."""

    def register(function: Callable) -> Callable:
        if kind in HANDLERS and HANDLERS[kind] is not function:
            raise RuntimeError(f"two handlers for job kind {kind!r}")
        HANDLERS[kind] = function
        if batched:
            BATCHED.add(kind)
        return function

    return register


def periodic(name: str, seconds: int):
    """Register the decorated function to run every `seconds` (in the scheduler, or the embedded loop)."""

    def register(function: Callable) -> Callable:
        PERIODIC[name] = Periodic(name, seconds, function)
        return function

    return register


def load_handlers() -> None:
    """Import every module of this package, so each registers its handlers and periodic tasks."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
