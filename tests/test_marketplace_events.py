"""随手拍 through the public site: a resident or member reports a problem, lists their reports and follows one."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db, limiter
from app.models import Event, EventStep, User
from app.models.choices import EventAction, EventLevel, EventSource, EventStatus, Role
from app.services import events as service
from app.services.users import create_user
from tests import test_board_phone as on_a_phone

pytestmark = pytest.mark.usefixtures("english")

HOME_GRID = "610404001001001"  # the demo resident's and member's grid
# the phone tests' fixtures (a served demo district, Chromium, a 390 px page), shared rather than copied
site, browser, phone = on_a_phone.site, on_a_phone.browser, on_a_phone.phone


def text_of(response) -> str:
    return response.get_data(as_text=True)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def report(client, **values):
    data = {
        "matter": "HW-001",
        "description": "路口的垃圾箱满了三天，没人清运，气味很大。",
        "location_text": "文汇社区A区5号楼东侧",
        "title": "",
    }
    data.update(values)
    return client.post("/events/new", data=data)


def newest_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event).order_by(Event.id.desc()))


# --- reporting -------------------------------------------------------------------------------------
def test_resident_reports_a_problem_that_lands_with_their_grid_worker(login_as):
    client = login_as("resident")
    before = event_count()
    response = report(client)
    assert response.status_code == 303
    event = newest_event()
    assert event_count() == before + 1
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    resident = user("resident")
    assert (event.grid_code, event.level, event.status) == (HOME_GRID, EventLevel.GRID, EventStatus.REPORTED)
    assert event.source == EventSource.RESIDENT and event.reporter_id == resident.id
    assert event.location_text == "文汇社区A区5号楼东侧"
    steps = db.session.scalars(select(EventStep).where(EventStep.event_id == event.id)).all()
    assert [(s.action, s.actor_id) for s in steps] == [(EventAction.REPORT, resident.id)]
    page = client.get(response.headers["Location"])
    assert "Reported. Your grid worker will respond by" in text_of(page)


def test_a_blank_title_is_made_from_the_matter_and_the_first_words(login_as):
    client = login_as("resident")
    report(client, description="  路口的垃圾箱满了三天，没人清运，\n气味很大，苍蝇也多，请尽快处理。  ")
    title = newest_event().title
    assert title.startswith("垃圾清运不及时：路口的垃圾箱满了三天")
    assert title.endswith("…") and len(title) <= 100


def test_a_typed_title_is_kept(login_as):
    client = login_as("resident")
    report(client, title="垃圾没人收")
    assert newest_event().title == "垃圾没人收"


def test_derived_title_never_exceeds_the_limit(demo):
    assert len(service.default_title("HW-001", "很" * 500)) <= 100
    assert service.default_title("NOPE", "") == ""


def test_member_reports_too(login_as):
    client = login_as("member")
    assert report(client).status_code == 303
    event = newest_event()
    assert event.reporter_id == user("member").id and event.grid_code == HOME_GRID


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"matter": "NOPE-9"}, "matter", "Choose a matter from the matter list."),
        ({"matter": "MZ-002"}, "matter", "not admitted"),
        ({"description": "   "}, "description", "Say what is wrong."),
        ({"location_text": ""}, "location_text", "Say where it is"),
    ],
)
def test_bad_reports_show_the_error_next_to_the_field_and_write_nothing(login_as, values, field, message):
    client = login_as("resident")
    before = (event_count(), db.session.scalar(select(func.count()).select_from(EventStep)))
    response = report(client, **values)
    assert response.status_code == 422
    body = text_of(response)
    assert f'id="{field}-error"' in body and message in body
    db.session.expire_all()
    assert (event_count(), db.session.scalar(select(func.count()).select_from(EventStep))) == before


def test_every_problem_is_listed_at_once(login_as):
    client = login_as("resident")
    body = text_of(report(client, matter="", description="", location_text=""))
    assert (
        'id="matter-error"' in body
        and 'id="description-error"' in body
        and 'id="location_text-error"' in body
    )
    assert 'id="title-error"' not in body  # the title was left to be derived


def test_the_form_offers_only_admitted_matters_grouped_by_category(login_as):
    body = text_of(login_as("resident").get("/events/new"))
    assert '<optgroup label="Sanitation">' in body and 'value="HW-001"' in body
    assert 'value="MZ-002"' not in body  # 高龄津贴申领 is not admitted
    assert 'name="grid_code"' not in body  # the resident has a home grid


def test_a_user_without_a_home_grid_chooses_one(login_as, monkeypatch):
    # the database requires a grid of residents and members; the form still copes when none is found
    monkeypatch.setattr("marketplace.events._home_grid", lambda user: None)
    client = login_as("resident")
    assert 'name="grid_code"' in text_of(client.get("/events/new"))
    assert 'id="grid_code-error"' in text_of(report(client, grid_code="610404999999999"))
    assert "only in your own grid" in text_of(report(client, grid_code="610404002001001"))  # another street's
    assert report(client, grid_code="610404001001001").status_code == 303
    assert newest_event().grid_code == "610404001001001"


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    for response in (
        client.get("/events/new"),
        report(client),
        client.get("/my/events"),
        client.get("/events/1"),
    ):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_are_sent_to_the_back_office_quick_report(login_as):
    response = login_as("grid").get("/events/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/event/new/")


# --- following ------------------------------------------------------------------------------------
def test_another_resident_cannot_see_my_report(login_as, app):
    report(login_as("resident"))
    event = newest_event()
    create_user("neighbour", Role.RESIDENT, "neighbour-pass", area_code=HOME_GRID, name="邻居")
    db.session.commit()
    other = app.test_client()
    other.post("/login", data={"username": "neighbour", "password": "neighbour-pass"})
    assert other.get(f"/events/{event.id}").status_code == 404
    assert event.title not in text_of(other.get("/my/events"))


def test_my_events_lists_only_mine_newest_first(login_as):
    client = login_as("resident")
    report(client, title="第一件事")
    report(client, title="第二件事")
    report(login_as("member"), title="党员上报的事")
    body = text_of(client.get("/my/events"))
    assert body.index("第二件事") < body.index("第一件事")
    assert "党员上报的事" not in body
    assert "Reported" in body  # the status label
    assert client.get("/my/events?page=9").status_code == 404


def test_the_event_page_shows_the_history_with_roles_not_names(login_as):
    client = login_as("resident")
    report(client, title="楼道灯坏了")
    event = newest_event()
    grid = user("grid")
    service.accept_event(grid, event)
    service.start_event(grid, event, "明天上午到现场。")
    db.session.commit()
    body = text_of(client.get(f"/events/{event.id}"))
    assert "Accepted" in body and "Work started" in body and "明天上午到现场。" in body
    assert "Grid worker" in body and grid.name not in body
    assert "Your grid worker is handling it." in body
    assert "Respond by" in body and "Resolve by" in body
    assert "<form" not in body.split("</header>", 1)[1]  # no action buttons for the resident


def test_a_closed_event_shows_the_callback_outcome(login_as):
    event = db.session.scalar(
        select(Event).where(Event.status == EventStatus.ARCHIVED, Event.reporter_id == user("resident").id)
    )
    assert event is not None  # the demo's 邻里噪声纠纷, reported by the resident, called back and archived
    body = text_of(login_as("resident").get(f"/events/{event.id}"))
    assert "Callback: you said you were satisfied" in body


def test_an_escalated_event_says_who_has_it(login_as):
    client = login_as("resident")
    report(client)
    event = newest_event()
    service.accept_event(user("grid"), event)
    service.escalate_event(user("grid"), event, "需要社区协调。")
    db.session.commit()
    body = text_of(client.get(f"/events/{event.id}"))
    assert "passed up to the community" in body and "Escalated" in body


# --- rate limit -----------------------------------------------------------------------------------
def age_demo_reports() -> None:
    """The demo's own reports move two hours back, out of the window the report limit counts."""
    db.session.execute(update(Event).values(created_at=Event.created_at - timedelta(hours=2)))
    db.session.commit()


@pytest.fixture
def limited(app):
    """Report limiting on, at two reports an hour, for one test."""
    saved = {k: app.config[k] for k in ("LOGIN_RATE_LIMIT_ENABLED", "EVENT_REPORT_RATE_LIMIT")}
    app.config.update(LOGIN_RATE_LIMIT_ENABLED=True, EVENT_REPORT_RATE_LIMIT="2 per hour")
    limiter.reset()
    age_demo_reports()
    yield
    app.config.update(saved)
    limiter.reset()


def test_the_third_report_in_an_hour_is_refused_politely(login_as, limited):
    client = login_as("resident")
    assert report(client, description="").status_code == 422  # mistakes do not use up the allowance
    assert [report(client).status_code for _ in range(2)] == [303, 303]
    before = event_count()
    response = report(client)
    assert response.status_code == 429
    assert "many reports in a short time" in text_of(response)
    assert event_count() == before
    assert report(login_as("member")).status_code == 303  # counted per reporter


# --- on a phone -----------------------------------------------------------------------------------
def test_resident_reports_on_a_phone(site, phone, tmp_path):
    from app.services.demo import DEMO_PASSWORDS
    from tests.test_board_phone import MIN_TAP, PHONE, log_in, page_width

    log_in(phone, site, "resident", DEMO_PASSWORDS["resident"][0])
    phone.goto(site + "/events/new")
    assert page_width(phone) <= PHONE["width"]
    for target in phone.locator(
        "main select, main textarea, main input:not([type=hidden]), main button"
    ).all():
        assert target.bounding_box()["height"] >= MIN_TAP
    phone.select_option("#matter", "AQ-002")
    phone.fill("#description", "楼道里有人给电动车充电，电线从窗户拉下来。")
    phone.fill("#location_text", "文汇社区A区3号楼2单元")
    with phone.expect_navigation():
        phone.click("main form button[type=submit]")
    assert "/events/" in phone.url and phone.locator(".flash-success").is_visible()
    assert phone.locator(".history li").count() == 1
    assert page_width(phone) <= PHONE["width"]
    phone.screenshot(path=str(tmp_path / "event-phone.png"), full_page=True)
