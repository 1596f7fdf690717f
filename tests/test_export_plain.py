"""Exports hold the data as text: never the list's HTML (badges, links, forms with a session's CSRF token)."""

import re

import pytest

from tests.test_export import csv_rows, export_views, xlsx_rows

pytestmark = pytest.mark.usefixtures("english")

MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>|&(amp|lt|gt|quot|#\d+);")


@pytest.mark.parametrize("username", ["admin", "street", "grid"])
def test_no_export_cell_holds_markup(app, login_as, username):
    client = login_as(username)
    checked, found = 0, {}
    for view in export_views(app):
        for kind, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
            response = client.get(f"{view.url}/export/{kind}/")
            if response.status_code == 403:
                continue
            header, *rows = read(response)
            for row in rows:
                for label, cell in zip(header, row):
                    if isinstance(cell, str) and MARKUP.search(cell):
                        found.setdefault(f"{view.endpoint}.{label} ({kind})", cell)
            checked += 1
    assert not found
    assert checked >= 10


def test_the_service_item_export_says_each_status_in_words_and_leaves_the_forms_out(login_as):
    header, *rows = csv_rows(login_as("admin").get("/admin/service_item/export/csv/"))
    assert "Follow up" not in header and rows
    statuses = {row[header.index("Status")] for row in rows}
    assert statuses and statuses <= {"Not yet done", "Not yet done · overdue", "Done", "Dropped"}, statuses
