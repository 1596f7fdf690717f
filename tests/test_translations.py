"""The Chinese catalogue covers every message in the code, and keeps every placeholder.

The messages are extracted afresh (as `pybabel extract` does, with the same babel.cfg and
keywords), so a string wrapped in `_()` but not yet translated fails here with its name.
Fix a failure with:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
    .venv/bin/pybabel update --no-fuzzy-matching -i translations/messages.pot -d translations
    # translate the new entries in translations/zh_Hans_CN/LC_MESSAGES/messages.po, then
    .venv/bin/pybabel compile -f -d translations

The .po file is read, not the compiled .mo, so a stale or missing .mo does not matter here.
"""

import os
import re
from io import BytesIO

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCALE = "zh_Hans_CN"  # BABEL_DEFAULT_LOCALE, and the name Flask-Admin's own catalogue uses
PO_PATH = os.path.join(ROOT, "translations", LOCALE, "LC_MESSAGES", "messages.po")
KEYWORDS = ("_l", "lazy_gettext")  # on top of Babel's defaults (_, gettext, ngettext, ...)

# printf-style conversions (%(name)s, %d, ...) and str.format fields ({choices}, {0}); %% is a literal
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{[^{}]*\}")


def _ids(message) -> tuple:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _label(message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:3])
    return f"{_ids(message)[0]!r} ({where})" if where else repr(_ids(message)[0])


def placeholders(text: str, braces: bool) -> set:
    found = {p for p in PERCENT.findall(text) if p != "%%"}
    if braces:
        found |= set(BRACE.findall(text.replace("{{", "").replace("}}", "")))
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages in the code now, extracted like `pybabel extract` into a temporary .pot."""
    pot = tmp_path_factory.mktemp("babel") / "messages.pot"
    argv = ["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(pot)]
    for keyword in KEYWORDS:
        argv += ["-k", keyword]
    cwd = os.getcwd()
    os.chdir(ROOT)  # so locations read "app/...", as in translations/messages.pot
    try:
        CommandLineInterface().run(argv + ["."])
    finally:
        os.chdir(cwd)
    with open(pot, "rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def catalogue():
    assert os.path.exists(PO_PATH), f"missing {PO_PATH}: run `pybabel init -l {LOCALE}` first"
    with open(PO_PATH, "rb") as fh:
        return read_po(fh, locale=LOCALE)


def test_extraction_finds_the_messages(extracted):
    ids = {_ids(m)[0] for m in extracted if m.id}
    assert len(ids) > 100  # a broken babel.cfg or keyword list would find next to nothing
    assert "A %(level)s code has exactly %(n)d digits." in ids  # python, gettext
    assert "Residents" in ids  # python, lazy_gettext as _l
    assert "Skip to content" in ids  # jinja2 template


def test_every_message_in_the_code_is_translated(extracted, catalogue):
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry = catalogue.get(message.id, message.context)
        if entry is None:
            problems.append(f"not in the catalogue: {_label(message)}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {_label(message)}")
        elif not all(s and s.strip() for s in _strings(entry)):
            problems.append(f"untranslated: {_label(message)}")
    assert not problems, (
        f"{len(problems)} message(s) lack a Chinese translation in {os.path.relpath(PO_PATH, ROOT)}:\n  "
        + "\n  ".join(problems)
    )


def test_translations_keep_their_placeholders(catalogue):
    problems = []
    for entry in catalogue:
        if not entry.id or not any(_strings(entry)):
            continue
        braces = "python-brace-format" in entry.flags or any(BRACE.search(i) for i in _ids(entry))
        expected = set().union(*(placeholders(i, braces) for i in _ids(entry)))
        for string in _strings(entry):
            got = placeholders(string or "", braces)
            if got != expected:
                problems.append(f"{entry.id!r} -> {string!r}: expected {sorted(expected)}, got {sorted(got)}")
    assert not problems, "placeholders changed in translation:\n  " + "\n  ".join(problems)


def test_catalogue_is_clean_and_compiles(catalogue):
    assert not catalogue.fuzzy, "the catalogue header is marked fuzzy; compile would skip it"
    assert catalogue.num_plurals == 1  # Chinese has a single plural form
    errors = [f"{m.id!r}: {'; '.join(map(str, errs))}" for m, errs in catalogue.check() if errs]
    assert not errors, "Babel's checks failed:\n  " + "\n  ".join(errors)
    write_mo(BytesIO(), catalogue)  # what `pybabel compile` does; raises on a broken entry
