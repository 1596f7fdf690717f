"""What follows each change is wired in one place (app.reactions), by the factory; never by importing a module."""

import ast
import os
import subprocess
import sys

import pytest

from app.reactions import CALLBACK_FOLLOW_UPS, REACTIONS, wire_reactions
from app.services import callbacks, signals
from app.services.signals import NotWired, wish_changed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _imported_modules(path: str) -> set[str]:
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_imports_the_jobs_or_the_reactions_anywhere_in_it():
    offenders = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "app", "services")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                bad = {
                    m
                    for m in _imported_modules(path)
                    if m == "app.jobs" or m.startswith("app.jobs.") or m == "app.reactions"
                }
                if bad:
                    offenders.append((os.path.relpath(path, ROOT), sorted(bad)))
    assert offenders == []


def test_importing_the_services_connects_nothing_and_declares_no_follow_up():
    """In a fresh interpreter: every service imported, no receiver connected, no callback follow-up patched in."""
    script = (
        "import pkgutil, importlib, app.services as s\n"
        "for m in pkgutil.walk_packages(s.__path__, 'app.services.'): importlib.import_module(m.name)\n"
        "from app.services import callbacks, signals\n"
        "assert not signals.is_wired() and not callbacks.FOLLOW_UPS\n"
        "assert not any(sig.receivers for sig in (signals.wish_changed, signals.event_changed,"
        " signals.certificate_issued, signals.sla_swept))\n"
        "from app.reactions import wire_reactions\n"
        "wire_reactions()\n"
        "assert signals.is_wired() and len(signals.wish_changed.receivers) == 4\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_a_signal_sent_before_the_reactions_are_wired_fails_loudly(app):
    signals.mark_wired(False)
    try:
        with pytest.raises(NotWired, match="wire_reactions"):
            wish_changed.send(object(), action="claim", actor=None)
    finally:
        signals.mark_wired()


def test_wiring_twice_connects_each_reaction_once(app):
    before = {signal.name: len(signal.receivers) for signal, _receiver in REACTIONS}
    wire_reactions()
    wire_reactions()
    assert {signal.name: len(signal.receivers) for signal, _receiver in REACTIONS} == before
    assert before == {
        "wish-changed": 4,
        "event-changed": 3,
        "certificate-issued": 2,
        "callup-changed": 1,
        "sla-swept": 1,
    }


def test_every_callback_subject_has_its_follow_ups_declared(app):
    assert set(CALLBACK_FOLLOW_UPS) == set(callbacks.FOLLOW_UPS) == {"wish", "event"}
    assert all(unsatisfied is not None for _satisfied, unsatisfied in callbacks.FOLLOW_UPS.values())
