"""What the tests of work logs, work records, printed sheets and joint meetings share.

A test module takes the fixtures by importing them: with `bare_demo` imported, its `demo` is the demo without
its own entries; `sheet_dir` (autouse) keeps the printed sheets' PDFs in the test's tmp_path.
"""

import pytest
from sqlalchemy import select, text

from app.api.auth import issue_token
from app.extensions import db
from app.models import User

# the demo's rows of these tables, children first: the tests write their own
TABLES = ("printed_sheet", "work_record", "work_log", "service_item", "meeting_unit", "joint_meeting")


@pytest.fixture(name="demo")
def bare_demo(demo):
    """The demo without its own work logs, records and meetings: these tests write theirs."""
    for table in TABLES:
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture(autouse=True)
def sheet_dir(app, tmp_path):
    """The printed sheets' PDFs go to the test's own folder."""
    before = app.config.get("CERTIFICATE_DIR")
    app.config["CERTIFICATE_DIR"] = str(tmp_path / "certificates")
    yield
    app.config["CERTIFICATE_DIR"] = before


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def bearer(account: User) -> dict:
    """The Authorization header of a fresh API token of `account`."""
    token, _expires = issue_token(account)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}
