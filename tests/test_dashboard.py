"""The dashboard on the back-office home: its numbers against plain SQL, per scope and period, and its access."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.extensions import cache, db
from app.services import dashboard
from app.services.dashboard import PeriodError, parse_period

pytestmark = pytest.mark.usefixtures("english")

SCOPES = {"admin": "", "street": "610404001", "community": "610404001001", "grid": "610404001001001"}
CHARTED = {k: v for k, v in SCOPES.items() if k != "grid"}  # a grid worker's home is their queue, no charts


def figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', page))


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="([^"]+)">(\d+)<', page)}


def sql(query: str, **params):
    return db.session.execute(text(query), params).all()


def sql_count(query: str, **params) -> int:
    return db.session.execute(text(query), params).scalar() or 0


def grouped(table: str, column: str, prefix: str, extra: str = "", **params) -> dict[str, int]:
    rows = sql(
        f"SELECT {column}, count(*) FROM {table} WHERE grid_code LIKE :p {extra} GROUP BY {column}",
        p=prefix + "%",
        **params,
    )
    return {str(k): n for k, n in rows}


def spread_over_dates():
    """Move the demo's events and wishes to known days (noon UTC, the same day in Shanghai)."""
    days = ["2025-01-15", "2025-02-15", "2025-03-15", "2025-04-15"]
    for table in ("event", "wish"):
        ids = [r[0] for r in sql(f"SELECT id FROM {table} ORDER BY id")]
        for i, row_id in enumerate(ids):
            moment = datetime.fromisoformat(days[i % len(days)] + "T12:00:00")
            db.session.execute(
                text(f"UPDATE {table} SET created_at = :at WHERE id = :id"), {"at": moment, "id": row_id}
            )
    db.session.commit()


@pytest.mark.parametrize("username", list(SCOPES))
def test_home_shows_the_counts_of_the_users_scope_as_sql_counts_them(login_as, username):
    prefix = SCOPES[username]
    page = login_as(username).get("/admin/").get_data(as_text=True)
    shown = counts(page)
    for key, table in [
        ("residents", "resident"),
        ("households", "household"),
        ("buildings", "building"),
        ("rooms", "room"),
        ("enterprises", "enterprise"),
        ("facilities", "facility"),
        ("members", "member"),
        ("events", "event"),
    ]:
        expected = sql_count(f"SELECT count(*) FROM {table} WHERE grid_code LIKE :p", p=prefix + "%")
        assert shown[key] == expected, (username, key)
    if username != "grid":  # a grid worker is shown no grid or community counts
        assert shown["grids"] == sql_count(
            "SELECT count(*) FROM area WHERE level = 'grid' AND code LIKE :p", p=prefix + "%"
        )
    assert shown["residents"] > 0


@pytest.mark.parametrize("username", list(CHARTED))
def test_event_charts_show_the_numbers_sql_gives_for_the_scope(login_as, username):
    prefix = SCOPES[username]
    shown = figures(login_as(username).get("/admin/").get_data(as_text=True))
    for column, section in [
        ("status", "events-status"),
        ("level", "events-level"),
        ("source", "events-source"),
    ]:
        expected = grouped("event", column, prefix)
        for code, n in expected.items():
            assert shown[f"{section}.{code}"] == str(n), (username, column, code)
        assert sum(int(v) for k, v in shown.items() if k.startswith(section + ".")) == sum(expected.values())
    by_matter = sum(int(v) for k, v in shown.items() if k.startswith("events-matter."))
    assert by_matter == sql_count("SELECT count(*) FROM event WHERE grid_code LIKE :p", p=prefix + "%")


@pytest.mark.parametrize("username", list(CHARTED))
def test_wish_funnel_ratings_and_members_match_sql(login_as, username):
    prefix = SCOPES[username]
    shown = figures(login_as(username).get("/admin/").get_data(as_text=True))
    posted = sql_count("SELECT count(*) FROM wish WHERE grid_code LIKE :p", p=prefix + "%")
    assert shown["wishes-funnel.submitted"] == str(posted)
    # a wish reached "claimed" when it is claimed or later now, or its history went through "claimed"
    claimed = sql_count(
        "SELECT count(*) FROM wish w WHERE w.grid_code LIKE :p AND (w.status IN "
        "('claimed', 'done', 'confirmed') OR EXISTS (SELECT 1 FROM wish_step s WHERE "
        "s.wish_id = w.id AND s.to_status = 'claimed'))",
        p=prefix + "%",
    )
    assert shown["wishes-funnel.claimed"] == str(claimed)
    confirmed = grouped("wish", "rating", prefix, "AND status = 'confirmed'")
    assert shown["wishes-rating.good"] == str(confirmed.get("good", 0))
    total = sql_count("SELECT count(*) FROM member WHERE grid_code LIKE :p", p=prefix + "%")
    active = sql_count(
        "SELECT count(*) FROM member WHERE grid_code LIKE :p AND service_hours > 0", p=prefix + "%"
    )
    assert (shown["members-active.active"], shown["members-active.inactive"]) == (
        str(active),
        str(total - active),
    )
    assert "members-units.top1" in shown or active == 0
    if username == "admin":
        assert posted > 0 and int(shown["wishes-funnel.confirmed"]) >= 1


def test_the_funnel_counts_a_released_wish_as_having_been_claimed(app, demo):
    from app.models import User, Wish
    from app.services import wishes

    member = db.session.scalar(db.select(User).where(User.username == "member"))
    wish = db.session.scalar(db.select(Wish).where(Wish.status == "claimed"))
    wishes.release_wish(member, wish, "临时有事")
    db.session.commit()
    admin = db.session.scalar(db.select(User).where(User.username == "admin"))
    funnel = dict(dashboard.area_figures(admin, dashboard.Period())["wishes"]["funnel"])
    now_claimed = sql_count("SELECT count(*) FROM wish WHERE status IN ('claimed', 'done', 'confirmed')")
    assert funnel["claimed"] == now_claimed + 1


def test_on_time_rate_rows_add_up_to_the_total(login_as):
    shown = figures(login_as("street").get("/admin/").get_data(as_text=True))
    resolved = sql_count(
        "SELECT count(*) FROM event WHERE grid_code LIKE '610404001%' AND resolved_at IS NOT NULL"
    )
    assert shown["on-time.total.resolved"] == str(resolved)
    per_community = [
        int(v) for k, v in shown.items() if k.startswith("on-time.610404001") and k.endswith(".resolved")
    ]
    assert sum(per_community) == resolved


def test_the_date_filter_counts_events_and_wishes_reported_in_the_period(login_as):
    spread_over_dates()
    client = login_as("admin")
    page = client.get("/admin/?from=2025-02-01&to=2025-03-31").get_data(as_text=True)
    since, until = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    in_period = "AND created_at >= :since AND created_at < :until"
    events = grouped("event", "status", "", in_period, since=since, until=until)
    wishes = sql_count(f"SELECT count(*) FROM wish WHERE 1 = 1 {in_period}", since=since, until=until)
    all_events = sql_count("SELECT count(*) FROM event")
    assert 0 < sum(events.values()) < all_events
    assert counts(page)["events"] == sum(events.values())
    shown = figures(page)
    for code, n in events.items():
        assert shown[f"events-status.{code}"] == str(n)
    assert shown["wishes-funnel.submitted"] == str(wishes)
    assert "from 2025-02-01 to 2025-03-31" in page
    # residents are not filtered by the period
    assert counts(page)["residents"] == sql_count("SELECT count(*) FROM resident")
    only_start = figures(client.get("/admin/?from=2025-04-01").get_data(as_text=True))
    assert sum(int(v) for k, v in only_start.items() if k.startswith("events-status.")) == sql_count(
        "SELECT count(*) FROM event WHERE created_at >= :since", since=datetime(2025, 4, 1)
    )


def test_the_period_is_in_local_days():
    period = parse_period("2025-02-01", "2025-02-01")
    assert period.since == datetime(2025, 1, 31, 16, tzinfo=UTC)
    assert period.until == datetime(2025, 2, 1, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2025-13-01", "is not a date"),
        ("to=yesterday", "is not a date"),
        ("from=2025-05-01&to=2025-04-01", "is after the end date"),
        ("from=1800-01-01", "must lie between"),
        ("from=" + "9" * 500, "is not a date"),
    ],
)
def test_bad_dates_get_a_message_not_an_error(login_as, query, message):
    response = login_as("community").get("/admin/?" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "data-period-error" in page and message in page
    assert "Showing all time instead." in page
    assert counts(page)["events"] == sql_count(
        "SELECT count(*) FROM event WHERE grid_code LIKE '610404001001%'"
    )


def test_parse_period_refuses_what_it_cannot_read():
    with pytest.raises(PeriodError):
        parse_period("2025-02-30", None)
    assert parse_period("", " ") == dashboard.Period()


def test_department_users_see_their_dispatches_waiting_and_no_charts(login_as):
    page = login_as("dept").get("/admin/").get_data(as_text=True)
    waiting = sql_count(
        "SELECT count(DISTINCT e.id) FROM dispatch d JOIN department p ON p.id = d.department_id "
        "JOIN event e ON e.id = d.event_id WHERE p.code = 'HW' AND d.status != 'done' AND e.status = 'in_progress'"
    )
    assert f'data-queue-count="dispatches">{waiting}<' in page
    assert (
        "data-figure=" not in page and 'data-count="residents"' not in page
    )  # no census figures for a department


def test_anonymous_visitors_go_to_the_login_page(client, demo):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["resident", "member"])
def test_residents_and_members_never_see_the_dashboard(login_as, username):
    assert login_as(username).get("/admin/").status_code == 403


def test_figures_are_cached_per_scope_and_period_and_say_when_they_were_counted(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 300)
    cache.clear()
    try:
        admin, grid = login_as("admin"), login_as("grid")
        before = counts(admin.get("/admin/").get_data(as_text=True))["residents"]
        grid_before = counts(grid.get("/admin/").get_data(as_text=True))["residents"]
        assert grid_before < before  # the grid worker's entry is their own, not the admin's
        db.session.execute(
            text(
                "INSERT INTO resident (grid_code, name, residence_type, created_at) "
                "VALUES ('610404001001001', '新居民', 'registered', :now)"
            ),
            {"now": datetime.now(UTC)},
        )
        db.session.commit()
        page = admin.get("/admin/").get_data(as_text=True)
        assert counts(page)["residents"] == before  # still the cached figures …
        assert re.search(r"Figures as of \d\d:\d\d", page)  # … and the page says how old they are
        other_period = counts(admin.get("/admin/?from=2020-01-01").get_data(as_text=True))
        assert other_period["residents"] == before + 1  # another period is another entry
        cache.clear()
        assert counts(admin.get("/admin/").get_data(as_text=True))["residents"] == before + 1
    finally:
        cache.clear()


def test_the_page_loads_echarts_from_the_back_office_static_files(login_as):
    client = login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    src = re.search(r'<script src="([^"]*echarts\.min\.js[^"]*)"', page).group(1)
    response = client.get(src)
    assert response.status_code == 200 and b"Apache" in response.data[:2000]
    # one chart per section: compliance, coverage, 双签字, meetings, say, call-ups …
    assert len(re.findall(r"data-chart='", page)) == 15
