"""The design documents the code cites exist, and so does every section a citation or a link names."""

import os
import re

from app import PROJECT_ROOT

DOCS = os.path.join(PROJECT_ROOT, "docs")
CITATION = re.compile(r"docs/([A-Za-z0-9_-]+\.md)(?:#([\w-]+))?")
LINK = re.compile(r"\]\(([A-Za-z0-9_-]+\.md)(?:#([\w-]+))?\)")
SOURCES = ("app", "admin", "marketplace", "tests", "bench", "migrations", "templates")


def _anchor(heading: str) -> str:
    """The fragment a Markdown renderer gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"\s", "-", text)


def _anchors(name: str) -> set[str]:
    with open(os.path.join(DOCS, name), encoding="utf-8") as fh:
        return {_anchor(line.lstrip("#")) for line in fh if line.startswith("#")}


def _sources() -> list[str]:
    """The README, and every Python, template and Markdown file of the code, tests and benchmarks."""
    paths = [os.path.join(PROJECT_ROOT, "README.md")]
    for top in SOURCES:
        for folder, _dirs, files in os.walk(os.path.join(PROJECT_ROOT, top)):
            paths.extend(os.path.join(folder, f) for f in files if f.endswith((".py", ".html", ".md")))
    return paths


def _citations():
    """(where, document, section) for every docs/… citation in the code, templates and the README."""
    for path in _sources():
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                for match in CITATION.finditer(line):
                    yield f"{os.path.relpath(path, PROJECT_ROOT)}:{number}", match[1], match[2]
    for name in os.listdir(DOCS):
        with open(os.path.join(DOCS, name), encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                for match in LINK.finditer(line):
                    yield f"docs/{name}:{number}", match[1], match[2]


def test_the_design_documents_are_in_the_repository():
    assert {"domain.md", "roles.md", "workflows.md", "jobs.md"} <= set(os.listdir(DOCS))


def test_every_citation_of_the_design_names_a_document_and_section_that_exist():
    citations = list(_citations())
    assert len(citations) > 10
    missing = [
        (where, doc, section)
        for where, doc, section in citations
        if not os.path.exists(os.path.join(DOCS, doc)) or (section and section not in _anchors(doc))
    ]
    assert not missing, f"citations of documents or sections that do not exist: {missing}"


def test_no_comment_cites_a_specification_outside_the_repository():
    stale = []
    for path in _sources():
        with open(path, encoding="utf-8") as fh:
            stale.extend(
                f"{os.path.relpath(path, PROJECT_ROOT)}:{n}"
                for n, line in enumerate(fh, 1)
                if re.search(r"\bSPEC\b", line)
            )
    assert not stale, f"cite docs/ instead: {stale}"
