"""Every Python module stays short (at most 400 lines): one idea per module, split where the seams are.

Counted: app/, admin/, marketplace/, tests/, bench/, migrations/ and the two top-level modules (wsgi.py,
gunicorn.conf.py). Not counted: migrations/versions, the generated history of the schema.
"""

import os

from app import PROJECT_ROOT

MAX_LINES = 400
FOLDERS = ("app", "admin", "marketplace", "tests", "bench", "migrations")
TOP_LEVEL = ("wsgi.py", "gunicorn.conf.py")
NOT_COUNTED = (os.path.join("migrations", "versions"),)


def _line_count(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _line in fh)


def modules(root: str = PROJECT_ROOT) -> list[str]:
    """The Python files counted, relative to `root`."""
    found = [name for name in TOP_LEVEL if os.path.isfile(os.path.join(root, name))]
    for top in FOLDERS:
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            relative = os.path.relpath(folder, root)
            dirs[:] = [d for d in dirs if d != "__pycache__" and os.path.join(relative, d) not in NOT_COUNTED]
            found.extend(os.path.join(relative, f) for f in files if f.endswith(".py"))
    return sorted(found)


def oversized(root: str = PROJECT_ROOT, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(path, lines) of every counted module longer than `limit` lines, longest first."""
    sizes = [(path, _line_count(os.path.join(root, path))) for path in modules(root)]
    return sorted(((path, n) for path, n in sizes if n > limit), key=lambda item: -item[1])


def test_the_count_sees_long_modules_and_skips_the_generated_history(tmp_path):
    for folder in ("app/services", "migrations/versions", "bench"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "app/services/long.py").write_text("x = 1\n" * 401)
    (tmp_path / "app/services/short.py").write_text("x = 1\n" * 400)
    (tmp_path / "migrations/versions/0001_start.py").write_text("x = 1\n" * 900)
    (tmp_path / "bench/soak.py").write_text("x = 1\n" * 402)
    (tmp_path / "wsgi.py").write_text("x = 1\n" * 401)
    assert oversized(str(tmp_path)) == [
        (os.path.join("bench", "soak.py"), 402),
        (os.path.join("app", "services", "long.py"), 401),
        ("wsgi.py", 401),
    ]


def test_the_count_covers_every_part_of_the_project():
    counted = set(modules())
    for path in ("wsgi.py", "gunicorn.conf.py", "app/__init__.py", "admin/__init__.py", "tests/conftest.py"):
        assert path in counted
    assert any(path.startswith("marketplace/") for path in counted)
    assert any(path.startswith("bench/") for path in counted)
    assert not any(path.startswith("migrations/versions/") for path in counted)


def test_every_module_is_at_most_400_lines():
    too_long = oversized()
    assert not too_long, f"modules over {MAX_LINES} lines (split them where the seams are): " + ", ".join(
        f"{path} ({n} lines)" for path, n in too_long
    )
