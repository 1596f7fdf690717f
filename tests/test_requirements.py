"""Every dependency is pinned: the .in files name what OneGrid uses, the .txt lock files pin everything."""

import os
import re
from importlib import metadata

import pytest

from app import PROJECT_ROOT

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")
REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]+\])?==(?P<version>[A-Za-z0-9.+!_-]+)$"
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(filename: str) -> list[str]:
    with open(os.path.join(PROJECT_ROOT, filename), encoding="utf-8") as fh:
        lines = [line.split(" #", 1)[0].strip() for line in fh]
    return [line for line in lines if line and not line.startswith("#")]


def _pins(filename: str) -> dict[str, str]:
    pins = {}
    for line in _lines(filename):
        match = PIN.match(line)
        assert match, f"{filename}: {line!r} is not pinned as name==version"
        pins[_normalise(match["name"])] = match["version"]
    return pins


def _direct(filename: str) -> dict[str, str]:
    direct = {}
    for line in _lines(filename):
        if line.startswith(("-c ", "-r ")):
            continue
        match = REQUIREMENT.match(line)
        assert match, f"{filename}: {line!r} does not name one version (name==version)"
        direct[_normalise(match["name"])] = match["version"]
    return direct


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_every_line_of_a_lock_file_is_pinned_with_double_equals(lock):
    assert len(_pins(lock)) > 40  # indirect dependencies included, not only the direct ones


@pytest.mark.parametrize(
    "source, lock",
    [
        ("requirements.in", "requirements.txt"),
        ("requirements.in", "requirements-dev.txt"),
        ("requirements-dev.in", "requirements-dev.txt"),
    ],
)
def test_the_lock_file_pins_what_its_in_file_asks_for(source, lock):
    pins = _pins(lock)
    for name, version in _direct(source).items():
        assert pins.get(name) == version, f"{lock} is out of date with {source} for {name}: run pip-compile"


def test_the_test_tools_sit_on_exactly_the_runtime_pins():
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_the_suite_runs_on_the_pinned_versions():
    wrong = {}
    for name, version in _pins("requirements-dev.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"pinned vs installed: {wrong} (make test reinstalls from requirements-dev.txt)"
