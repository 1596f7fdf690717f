"""Callbacks (回访): a confirmed wish opens a task for its grid worker; the outcome is recorded in the back office."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.scheduler import run_periodic
from app.models import AuditLog, Member, User, Wish
from app.models.base import aware, utcnow
from app.models.callbacks import CallbackTask
from app.models.choices import WishStatus
from app.services import callbacks, wishes
from app.services.wishes import WishConflict, WishForbidden, WishInvalid

pytestmark = pytest.mark.usefixtures("english")

GRID_A = "610404001001001"  # the demo grid worker "grid", the demo resident and member


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member() -> Member:
    return db.session.scalar(select(Member).where(Member.user_id == user("member").id))


def done_wish() -> Wish:
    """The demo wish the member has completed and the resident not yet confirmed."""
    return db.session.scalar(select(Wish).where(Wish.status == WishStatus.DONE, Wish.grid_code == GRID_A))


def confirmed_task() -> tuple[Wish, CallbackTask]:
    """The done demo wish confirmed by its resident (committed) and the callback task that opened."""
    wish = done_wish()
    wishes.confirm_wish(user("resident"), wish, "good", "谢谢")
    db.session.commit()
    return wish, tasks_of(wish)[-1]


def tasks_of(wish: Wish | int) -> list[CallbackTask]:
    wish_id = wish if isinstance(wish, int) else wish.id
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CallbackTask).where(CallbackTask.wish_id == wish_id).order_by(CallbackTask.cycle)
        )
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def listed_tasks(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-callback-record="(\d+)"', page)}


# --- opening a task ------------------------------------------------------------------------------------
def test_a_confirmed_wish_opens_one_callback_due_a_day_later_for_its_grid_worker(demo):
    before = utcnow()
    wish, task = confirmed_task()
    assert len(tasks_of(wish)) == 1
    assert (task.subject_type, task.subject_id, task.cycle, task.status) == ("wish", wish.id, 1, "due")
    assert task.grid_code == GRID_A and task.assignee_id == user("grid").id
    assert before + timedelta(hours=24) <= aware(task.due_at) <= utcnow() + timedelta(hours=24)
    assert task.outcome is None and task.recorded_at is None


def test_the_callback_delay_is_configurable(app, demo):
    app.config["CALLBACK_DELAY_HOURS"] = 2
    try:
        _wish, task = confirmed_task()
    finally:
        del app.config["CALLBACK_DELAY_HOURS"]
    assert aware(task.due_at) - aware(task.created_at) == timedelta(hours=2)


def test_an_automatically_confirmed_wish_opens_a_callback_too(demo):
    wish = done_wish()
    wish.done_at, wish_id = utcnow() - timedelta(hours=80), wish.id
    db.session.commit()
    assert run_periodic("auto_confirm_wishes") == "auto_confirm_wishes: 1"
    assert [t.status for t in tasks_of(wish_id)] == ["due"]


def test_a_grid_without_a_grid_worker_leaves_the_callback_to_any_staff_in_scope(demo):
    task = callbacks.schedule_callback("event", 99, "610404002001001")
    db.session.commit()
    assert task.assignee_id is None and task.wish_id is None
    assert callbacks.can_record(user("street"), task) is False  # another street
    assert callbacks.can_record(user("admin"), task) is True


# --- the list ------------------------------------------------------------------------------------------
def test_the_callback_is_listed_for_the_grid_worker_and_community_but_not_for_the_next_grid(login_as):
    wish, task = confirmed_task()
    page = text(login_as("grid").get("/admin/callback/"))
    assert task.id in listed_tasks(page) and wish.title in page
    assert task.id in listed_tasks(text(login_as("community").get("/admin/callback/")))
    other = login_as("grid2").get("/admin/callback/")
    assert (
        other.status_code == 200
        and task.id not in listed_tasks(text(other))
        and wish.title not in text(other)
    )
    assert login_as("member").get("/admin/callback/").status_code == 403


def test_the_list_shows_open_callbacks_soonest_first_and_flags_due_and_overdue_ones(login_as):
    _wish, task = confirmed_task()
    demo_task = db.session.scalar(select(CallbackTask).where(CallbackTask.id != task.id))
    client = login_as("grid")
    page = text(client.get("/admin/callback/"))
    assert "og-due" not in page and "og-overdue" not in page  # nothing due for a day yet
    db.session.get(CallbackTask, task.id).due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    page = text(client.get("/admin/callback/"))
    assert page.count("og-due") == 1 and "og-overdue" not in page
    assert page.index(f'data-callback-record="{task.id}"') < page.index(
        f'data-callback-record="{demo_task.id}"'
    )
    db.session.get(CallbackTask, task.id).due_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    page = text(client.get("/admin/callback/"))
    assert page.count("og-overdue") == 1 and "overdue" in page
    overdue_link = re.search(r'href="([^"]+)">Overdue<', page).group(1).replace("&amp;", "&")
    assert listed_tasks(text(client.get(overdue_link))) == {task.id}


def test_recorded_callbacks_leave_the_default_list_and_show_under_recorded(login_as):
    _wish, task = confirmed_task()
    client = login_as("grid")
    client.post(f"/admin/callback/record/?id={task.id}", data={"outcome": "satisfied", "note": ""})
    page = text(client.get("/admin/callback/"))
    assert task.id not in listed_tasks(page) and f"/record/?id={task.id}" not in page
    recorded_link = re.search(r'href="([^"]+)">Recorded<', page).group(1).replace("&amp;", "&")
    recorded = text(client.get(recorded_link))
    assert f"/admin/callback/record/?id={task.id}" not in recorded and "Satisfied" in recorded


# --- recording -----------------------------------------------------------------------------------------
def test_the_grid_worker_records_a_satisfied_callback_once(login_as):
    wish, task = confirmed_task()
    hours = member().service_hours
    client = login_as("grid")
    form = client.get(f"/admin/callback/record/?id={task.id}")
    assert form.status_code == 200 and wish.title in text(form) and 'name="outcome"' in text(form)
    response = client.post(
        f"/admin/callback/record/?id={task.id}",
        data={"outcome": "satisfied", "note": "很满意"},
        follow_redirects=True,
    )
    assert "Callback recorded." in text(response)
    recorded = tasks_of(wish)[0]
    assert (recorded.status, recorded.outcome, recorded.note) == ("done", "satisfied", "很满意")
    assert recorded.recorded_by_id == user("grid").id and recorded.recorded_at is not None
    assert db.session.get(Wish, wish.id).status == WishStatus.CONFIRMED and member().service_hours == hours
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.model == "CallbackTask", AuditLog.object_id == str(task.id))
        )
        == 1
    )
    again = client.post(
        f"/admin/callback/record/?id={task.id}",
        data={"outcome": "unsatisfied", "note": "x"},
        follow_redirects=True,
    )
    assert "already been recorded" in text(again) and tasks_of(wish)[0].outcome == "satisfied"
    with pytest.raises(WishConflict):
        callbacks.record_callback(user("grid"), tasks_of(wish)[0], False, "再来一次")


def test_the_next_grid_worker_can_neither_see_nor_record_the_callback(login_as):
    _wish, task = confirmed_task()
    client = login_as("grid2")
    assert client.get(f"/admin/callback/record/?id={task.id}").status_code == 404
    assert (
        client.post(f"/admin/callback/record/?id={task.id}", data={"outcome": "satisfied"}).status_code == 404
    )
    with pytest.raises(WishForbidden):
        callbacks.record_callback(user("grid2"), task, True, None)
    assert tasks_of(_wish)[0].status == "due"


def test_an_unsatisfied_callback_needs_a_note(login_as):
    wish, task = confirmed_task()
    client = login_as("grid")
    page = text(
        client.post(f"/admin/callback/record/?id={task.id}", data={"outcome": "unsatisfied", "note": "  "})
    )
    assert "Say what the resident is unsatisfied with." in page and "is-invalid" in page
    page = text(client.post(f"/admin/callback/record/?id={task.id}", data={"note": "whatever"}))
    assert "Choose whether the resident is satisfied." in page
    page = text(
        client.post(
            f"/admin/callback/record/?id={task.id}", data={"outcome": "unsatisfied", "note": "长" * 1001}
        )
    )
    assert "at most 1000 characters" in page
    with pytest.raises(WishInvalid):
        callbacks.record_callback(user("grid"), task, False, "")
    assert tasks_of(wish)[0].status == "due" and db.session.get(Wish, wish.id).status == WishStatus.CONFIRMED


def test_an_unsatisfied_callback_reopens_the_wish_and_a_new_confirmation_opens_a_new_callback(login_as):
    wish, task = confirmed_task()
    credited, first_hours = member().service_hours, wish.hours
    response = login_as("grid").post(
        f"/admin/callback/record/?id={task.id}",
        data={"outcome": "unsatisfied", "note": "药买错了，需要重新购买"},
        follow_redirects=True,
    )
    assert "went back to its member" in text(response)
    db.session.expire_all()
    reopened = db.session.get(Wish, wish.id)
    assert reopened.status == WishStatus.CLAIMED and reopened.claimed_by_id == member().id
    assert member().service_hours == credited - first_hours
    assert [(t.cycle, t.status, t.outcome) for t in tasks_of(wish)] == [(1, "done", "unsatisfied")]
    assert reopened.steps[-1].action == "reopen" and reopened.steps[-1].note == "药买错了，需要重新购买"

    wishes.complete_wish(user("member"), reopened, "重新买了正确的药", "2")
    wishes.confirm_wish(user("resident"), reopened, "good")
    db.session.commit()
    assert [(t.cycle, t.status) for t in tasks_of(wish)] == [(1, "done"), (2, "due")]
    assert member().service_hours == credited - first_hours + Decimal(2)


def test_a_wish_reopened_outside_a_callback_closes_its_open_callback(demo):
    wish, _task = confirmed_task()
    wishes.reopen_wish(user("community"), wish, "居民电话投诉")
    db.session.commit()
    closed = tasks_of(wish)[0]
    assert (closed.status, closed.outcome, closed.note) == ("done", "unsatisfied", "居民电话投诉")


def test_unknown_or_malformed_task_ids_answer_404(login_as):
    client = login_as("grid")
    for raw in ("abc", "0", "99999", "99999999999999", "-1"):
        assert client.get(f"/admin/callback/record/?id={raw}").status_code == 404


# --- reminders -----------------------------------------------------------------------------------------
def test_the_reminder_task_counts_each_callback_once_when_it_falls_due(demo):
    _wish, task = confirmed_task()
    task_id = task.id
    assert run_periodic("callback_reminders") == "callback_reminders: 0"  # nothing due yet
    db.session.get(CallbackTask, task_id).due_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert callbacks.due_count(user("grid")) == 1 and callbacks.due_count(user("grid2")) == 0
    assert run_periodic("callback_reminders") == "callback_reminders: 1"
    assert run_periodic("callback_reminders") == "callback_reminders: 0"
    assert db.session.get(CallbackTask, task_id).reminded_at is not None


def test_the_callbacks_export_as_plain_csv(login_as):
    wish, _task = confirmed_task()
    response = login_as("grid").get("/admin/callback/export/csv/")
    csv = text(response)
    assert response.status_code == 200 and wish.title in csv and "<span" not in csv and "<a " not in csv


def test_the_back_office_home_lists_what_waits_for_the_grid_worker(login_as):
    page = login_as("grid").get("/admin/").get_data(as_text=True)
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Wish)
        .where(Wish.status == WishStatus.SUBMITTED, Wish.grid_code == "610404001001001")
    )
    assert waiting >= 1 and f'data-queue-count="reviews">{waiting}<' in page
