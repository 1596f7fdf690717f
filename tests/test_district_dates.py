"""Every date rule is judged on the district's calendar (DISTRICT_TIMEZONE, Asia/Shanghai by default), not the
server's or UTC's: between 16:00 and 24:00 UTC it is already tomorrow in Shanghai."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Member, User, Wish
from app.models.choices import Role, WishStatus
from app.services import certificate_batches as batches
from app.services import certificates, clock
from app.services import event_intake as events
from app.services.dashboard import parse_period
from app.services.errors import Invalid
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"
# 17:00 UTC on 1 December is 01:00 on 2 December in Shanghai
UTC_YESTERDAY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
SHANGHAI_TODAY = date(2026, 12, 2)
UTC_TODAY = date(2026, 12, 1)


@pytest.fixture
def at(monkeypatch):
    """Set the clock the district's calendar reads (a UTC moment)."""
    return lambda moment: monkeypatch.setattr(clock, "utcnow", lambda: moment)


@pytest.fixture
def utc_district(app, monkeypatch):
    """The same deployment configured with DISTRICT_TIMEZONE=UTC."""
    monkeypatch.setitem(app.config, "DISTRICT_TIMEZONE", "UTC")


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _campaigns() -> dict[str, Campaign]:
    """One campaign that starts on Shanghai's today, one that ended on UTC's today (Shanghai's yesterday)."""
    starts = Campaign(name="今天开始", area_code="610404", starts_on=SHANGHAI_TODAY)
    ended = Campaign(name="昨天结束", area_code="610404", starts_on=date(2026, 11, 1), ends_on=UTC_TODAY)
    db.session.add_all([starts, ended])
    db.session.commit()
    return {"starts": starts, "ended": ended}


# --- campaigns ("running today") -----------------------------------------------------------------
def test_a_campaign_is_running_by_the_district_date_while_utc_is_still_yesterday(demo):
    campaigns = _campaigns()
    assert clock.district_today(UTC_YESTERDAY) == SHANGHAI_TODAY
    assert events.campaign_running(campaigns["starts"], UTC_YESTERDAY)
    assert not events.campaign_running(campaigns["ended"], UTC_YESTERDAY)
    names = {c.name for c in events.running_campaigns(_user("grid"), UTC_YESTERDAY)}
    assert names == {"今天开始"}


def test_the_setting_changes_the_answer(demo, utc_district):
    campaigns = _campaigns()
    assert clock.district_today(UTC_YESTERDAY) == UTC_TODAY
    assert not events.campaign_running(campaigns["starts"], UTC_YESTERDAY)
    assert events.campaign_running(campaigns["ended"], UTC_YESTERDAY)
    assert {c.name for c in events.running_campaigns(_user("grid"), UTC_YESTERDAY)} == {"昨天结束"}


@pytest.mark.parametrize(
    "moment, running",
    [
        (datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC), True),  # 23:59:59 on the campaign's last day
        (datetime(2026, 12, 1, 16, 0, tzinfo=UTC), False),  # midnight in Shanghai: over, though UTC's 1 Dec
    ],
)
def test_a_campaign_ends_at_midnight_in_shanghai(demo, moment, running):
    assert events.campaign_running(_campaigns()["ended"], moment) is running


def test_a_report_joins_a_campaign_by_the_district_date(demo):
    campaigns = _campaigns()
    report = {"title": "楼道堆物", "description": None, "matter_code": "HW-001", "grid_code": GRID}
    report["now"] = UTC_YESTERDAY
    with pytest.raises(Invalid) as refused:
        events.report_event(_user("grid"), campaign_id=campaigns["ended"].id, **report)
    assert refused.value.errors["campaign_id"] == "This campaign is not running today."
    db.session.rollback()
    event, _created = events.report_event(_user("grid"), campaign_id=campaigns["starts"].id, **report)
    assert event.campaign_id == campaigns["starts"].id


def test_the_back_office_report_form_offers_the_campaigns_running_in_the_district_today(demo, login_as, at):
    _campaigns()
    grid = login_as("grid")
    at(UTC_YESTERDAY)
    form = grid.get("/admin/event/new/").get_data(as_text=True)
    assert "今天开始" in form and "昨天结束" not in form


# --- a member's check-in day ---------------------------------------------------------------------
@pytest.mark.parametrize("zone, day", [("Asia/Shanghai", SHANGHAI_TODAY), ("UTC", UTC_TODAY)])
def test_a_new_member_checks_in_on_the_district_date(demo, app, monkeypatch, at, zone, day):
    monkeypatch.setitem(app.config, "DISTRICT_TIMEZONE", zone)
    at(UTC_YESTERDAY)
    user = create_user("member9", Role.MEMBER, "member9-pass", area_code=GRID, name="新党员")
    db.session.commit()
    assert db.session.scalar(select(Member.checked_in_on).where(Member.user_id == user.id)) == day


# --- certificates: a period must have ended; its days are the district's ------------------------
def test_a_period_may_end_on_the_district_today_but_not_later(demo, at):
    at(UTC_YESTERDAY)
    batches.check_period(date(2026, 1, 1), SHANGHAI_TODAY)
    with pytest.raises(certificates.CertificateError, match="must have ended"):
        batches.check_period(date(2026, 1, 1), date(2026, 12, 3))


def test_under_utc_the_period_may_not_end_on_shanghais_today(demo, at, utc_district):
    at(UTC_YESTERDAY)
    batches.check_period(date(2026, 1, 1), UTC_TODAY)
    with pytest.raises(certificates.CertificateError, match="must have ended"):
        batches.check_period(date(2026, 1, 1), SHANGHAI_TODAY)


def test_a_period_counts_the_hours_confirmed_on_its_days_in_the_district(demo):
    """A wish confirmed at 01:00 on 2 December in Shanghai (17:00 UTC on the 1st) is 2 December's."""
    wish = db.session.scalars(select(Wish).where(Wish.status == WishStatus.CONFIRMED)).first()
    wish.confirmed_at, wish.hours = UTC_YESTERDAY, Decimal(2)
    db.session.commit()
    scope = batches.resolve_scope(_user("community"), "area:610404001001")

    def hours_on(day: date) -> Decimal:
        found = dict(batches.members_with_hours(scope, day, day))
        return sum((h for m, h in found.items() if m.id == wish.claimed_by_id), Decimal(0))

    assert hours_on(SHANGHAI_TODAY) == Decimal(2) and hours_on(UTC_TODAY) == 0


def test_the_honour_batch_form_proposes_the_year_up_to_the_district_today(login_as, at):
    community = login_as("community")
    at(UTC_YESTERDAY)
    page = community.get("/admin/honourbatch/new/").get_data(as_text=True)
    assert 'value="2026-12-02"' in page and 'value="2026-01-01"' in page


# --- the dashboard's period --------------------------------------------------------------------------
def test_the_dashboard_period_is_in_district_days(app, utc_district):
    assert parse_period("2026-12-02", "2026-12-02").since == datetime(2026, 12, 2, tzinfo=UTC)
    app.config["DISTRICT_TIMEZONE"] = "Asia/Shanghai"
    assert parse_period("2026-12-02", "2026-12-02").since == datetime(2026, 12, 1, 16, tzinfo=UTC)
