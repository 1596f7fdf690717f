"""A resident who forgot their password asks their grid worker, who gives them a new one from the resident's
page in the back office: random, shown once, audited, ending the old sessions (app.services.users)."""

import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Resident, User
from app.services.errors import Forbidden
from app.services.users import reset_password


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_the_grid_worker_resets_a_residents_password_shown_once(app, demo, login_as):
    resident = db.session.scalar(select(Resident).where(Resident.user_id == user("resident").id))
    old_session = login_as("resident")
    assert old_session.get("/account").status_code == 200
    grid = login_as("grid")
    details = html.unescape(grid.get(f"/admin/resident/details/?id={resident.id}").get_data(as_text=True))
    assert "忘记密码：为其重置密码" in details
    answer = grid.post("/admin/resident/reset-password/", data={"id": resident.id})
    assert answer.status_code == 200 and "no-store" in answer.headers["Cache-Control"]
    password = re.search(r"data-new-password>([a-z0-9]+)<", answer.get_data(as_text=True)).group(1)
    assert len(password) == 10 and "只显示这一次" in html.unescape(answer.get_data(as_text=True))
    assert old_session.get("/account").status_code == 302  # the old login ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "resident", "password": password}).status_code == 303
    entry = db.session.scalar(
        select(AuditLog).where(
            AuditLog.model == "User", AuditLog.username == "grid", AuditLog.action == "update"
        )
    )
    assert entry.object_id == str(user("resident").id) and entry.after == {"password_hash": "(changed)"}
    assert password not in str(entry.after) and password not in str(entry.before)


def test_staff_reset_only_residents_and_members_in_their_area(demo):
    with pytest.raises(Forbidden):
        reset_password(user("grid"), user("admin"))
    with pytest.raises(Forbidden):
        reset_password(user("grid2"), user("resident"))  # another grid's resident
    assert reset_password(user("admin"), user("grid"))  # an admin resets anyone's


def test_a_resident_without_an_account_has_no_reset_button(demo, login_as):
    grid = login_as("grid")
    unlinked = db.session.scalar(
        select(Resident)
        .where(Resident.user_id.is_(None), Resident.grid_code == user("grid").area_code)
        .limit(1)
    )
    page = grid.get(f"/admin/resident/details/?id={unlinked.id}").get_data(as_text=True)
    assert "data-reset-password" not in page
    answer = grid.post("/admin/resident/reset-password/", data={"id": unlinked.id})
    assert answer.status_code == 303
