"""gunicorn.conf.py: each worker, once the app is loaded, freezes its objects out of the collector's work and
collects the young generation less often (GC_THRESHOLDS)."""

import json
import os
import subprocess
import sys

from app import PROJECT_ROOT

PROBE = (
    "import gc, json, runpy; conf = runpy.run_path('gunicorn.conf.py'); before = gc.get_freeze_count();"
    "conf['post_worker_init'](None);"
    "print(json.dumps([gc.get_threshold(), before, gc.get_freeze_count()]))"
)


def worker_collector(**env) -> tuple[list[int], int, int]:
    """The thresholds and freeze counts (before, after) a worker gets from post_worker_init, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def test_a_worker_freezes_the_loaded_app_and_collects_less_often():
    thresholds, before, after = worker_collector()
    assert thresholds == [50000, 50, 100]
    assert before == 0 and after > 1000  # the interpreter's and the modules' objects, no longer scanned


def test_the_thresholds_come_from_the_environment():
    thresholds, _before, _after = worker_collector(GC_THRESHOLDS="20000,20,40")
    assert thresholds == [20000, 20, 40]


def test_a_malformed_setting_stops_the_server_with_a_message():
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        env={**os.environ, "GC_THRESHOLDS": "lots"},
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "GC_THRESHOLDS must be one to three whole numbers" in probe.stderr
