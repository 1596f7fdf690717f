"""Joint meetings (联席会议): recorded by community or street staff, items followed to done, unmet quarters flagged."""

from datetime import date, timedelta

import pytest
from signing_support import bare_demo, user  # noqa: F401 (a fixture)
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Unit
from app.models.meetings import ServiceItemStatus
from app.services import meetings
from app.services.clock import district_today
from app.services.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.usefixtures("english")


COMMUNITY, OTHER_COMMUNITY, STREET = "610404001001", "610404001002", "610404001"
GRID, OTHER_GRID = "610404001001001", "610404001002001"


def unit_of(community: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.community_code == community).order_by(Unit.id))


def record(username="community", area=COMMUNITY, held_on=None, items=None, **extra):
    unit = unit_of(COMMUNITY)
    meeting = meetings.record_meeting(
        user(username),
        area_code=area,
        held_on=held_on or district_today(),
        title="第四季度联席会议",
        minutes="协商确定本季度网格服务事项。",
        unit_ids=[unit.id],
        items=items
        if items is not None
        else [
            {"title": "楼道照明维修", "unit_id": unit.id, "due_on": district_today() + timedelta(days=30)},
            {"title": "老旧小区消防排查", "grid_code": GRID, "due_on": district_today() + timedelta(days=10)},
        ],
        **extra,
    )
    db.session.commit()
    return meeting


def test_community_staff_record_a_meeting_with_units_and_items_and_it_is_audited(demo):
    meeting = record()
    assert [u.community_code for u in meeting.units] == [COMMUNITY]
    assert [(i.title, i.status) for i in meeting.items] == [
        ("楼道照明维修", ServiceItemStatus.OPEN),
        ("老旧小区消防排查", ServiceItemStatus.OPEN),
    ]
    assert meeting.items[0].area_code == COMMUNITY and meeting.items[1].area_code == GRID
    models = set(db.session.scalars(select(AuditLog.model).where(AuditLog.action == "create")))
    assert {"JointMeeting", "ServiceItem"} <= models


def test_grid_workers_and_other_communities_may_not_record(demo):
    with pytest.raises(Forbidden):
        record("grid")
    with pytest.raises(Forbidden):
        record("community", area=OTHER_COMMUNITY)


def test_items_must_name_one_owner_inside_the_area_and_be_due_after_the_meeting(demo):
    cases = [
        [{"title": "x", "due_on": district_today()}],  # no owner
        [{"title": "x", "grid_code": OTHER_GRID, "due_on": district_today()}],  # another community's grid
        [{"title": "x", "grid_code": GRID, "due_on": district_today() - timedelta(days=1)}],  # before it
        [{"title": "", "grid_code": GRID, "due_on": district_today()}],
    ]
    for items in cases:
        with pytest.raises(Invalid):
            record(items=items)
        db.session.rollback()
    with pytest.raises(Invalid):
        record(held_on=district_today() + timedelta(days=1))


def test_a_street_records_for_its_communities(demo):
    meeting = record("street", area=STREET)
    assert meeting.area_code == STREET


def test_items_are_followed_to_done_once_and_a_drop_needs_a_reason(demo):
    meeting = record()
    first, second = meeting.items
    grid_worker = user("grid")
    meetings.follow_item(grid_worker, second, meetings.COMPLETE, "已排查完毕")
    db.session.commit()
    assert second.status == ServiceItemStatus.DONE and second.closed_by_id == grid_worker.id
    with pytest.raises(Conflict):
        meetings.follow_item(grid_worker, second, meetings.DROP, "重复")
    db.session.rollback()
    with pytest.raises(Forbidden):  # the unit's item belongs to the community, not to the grid worker's grid
        meetings.follow_item(grid_worker, first, meetings.COMPLETE)
    db.session.rollback()
    with pytest.raises(Invalid):
        meetings.follow_item(user("community"), first, meetings.DROP, "")
    db.session.rollback()
    meetings.follow_item(user("community"), first, meetings.DROP, "单位已撤并")
    db.session.commit()
    steps = db.session.scalars(
        select(AuditLog.after).where(AuditLog.model == "ServiceItem", AuditLog.action == "update")
    )
    assert sorted(step["step"] for step in steps) == ["complete", "drop"]


def test_the_station_functions_list_open_items_first_and_never_dropped_ones(demo):
    unit = unit_of(COMMUNITY)
    today = district_today()
    meeting = record(
        items=[
            {"title": "晚", "grid_code": GRID, "due_on": today + timedelta(days=20)},
            {"title": "早", "grid_code": GRID, "due_on": today + timedelta(days=5)},
            {"title": "完成", "grid_code": GRID, "due_on": today + timedelta(days=1)},
            {"title": "放弃", "grid_code": GRID, "due_on": today + timedelta(days=1)},
            {"title": "单位", "unit_id": unit.id, "due_on": today + timedelta(days=3)},
        ]
    )
    done, dropped = meeting.items[2], meeting.items[3]
    meetings.follow_item(user("community"), done, meetings.COMPLETE)
    meetings.follow_item(user("community"), dropped, meetings.DROP, "不再需要")
    db.session.commit()
    assert [i.title for i in meetings.service_items_for_grid(GRID)] == ["早", "晚", "完成"]
    assert [i.title for i in meetings.service_items_for_unit(unit.id)] == ["单位"]
    assert meetings.service_items_for_grid(OTHER_GRID) == []


def test_an_open_item_past_its_due_date_is_overdue_in_the_district_calendar(demo):
    meeting = record(held_on=district_today() - timedelta(days=10))
    item = meeting.items[1]
    assert not meetings.is_overdue(item)
    assert meetings.is_overdue(item, today=item.due_on + timedelta(days=1))


def test_a_community_without_a_meeting_in_a_quarter_is_flagged_and_a_street_meeting_counts_for_all(demo):
    year, quarter = meetings.quarter_of(district_today())
    start, _end = meetings.quarter_bounds(year, quarter)
    admin = user("admin")
    unmet = {code for code, _name in meetings.communities_without_meeting(admin, year, quarter)}
    assert {COMMUNITY, OTHER_COMMUNITY} <= unmet
    record(held_on=start)
    unmet = {code for code, _name in meetings.communities_without_meeting(admin, year, quarter)}
    assert COMMUNITY not in unmet and OTHER_COMMUNITY in unmet
    record("street", area=STREET, held_on=start, items=[])
    unmet = {code for code, _name in meetings.communities_without_meeting(admin, year, quarter)}
    assert not {c for c in unmet if c.startswith(STREET)}
    # the quarter before is still unmet; the community's staff see only their own community
    previous = meetings.previous_quarter(year, quarter)
    assert [c for c, _n in meetings.communities_without_meeting(user("community"), *previous)] == [COMMUNITY]


def test_quarters_follow_the_calendar():
    assert meetings.quarter_of(date(2026, 12, 31)) == (2026, 4)
    assert meetings.quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert meetings.quarter_bounds(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert meetings.previous_quarter(2026, 1) == (2025, 4)


# --- the API -------------------------------------------------------------------------------------------------
def bearer(username: str) -> dict:
    from app.api.auth import issue_token

    token, _expires = issue_token(user(username))
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_meeting_over_the_api_its_items_followed_and_the_unmet_quarter(demo, client):
    unit = unit_of(COMMUNITY)
    due = (district_today() + timedelta(days=14)).isoformat()
    body = {
        "area_code": COMMUNITY,
        "held_on": district_today().isoformat(),
        "title": "联席会议",
        "minutes": "纪要",
        "unit_ids": [unit.id],
        "items": [{"title": "义诊进社区", "unit_id": unit.id, "due_on": due}],
    }
    headers = {**bearer("community"), "Idempotency-Key": "meeting-1"}
    created = client.post("/api/v1/meetings", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    again = client.post("/api/v1/meetings", json=body, headers=headers)
    assert again.get_json()["id"] == created.get_json()["id"]
    item = created.get_json()["items"][0]
    assert item["owner"] == unit.name and item["actions"] == ["complete", "drop"]
    assert client.post("/api/v1/meetings", json=body, headers=bearer("grid")).status_code == 403
    listed = client.get(f"/api/v1/service-items?unit_id={unit.id}", headers=bearer("community")).get_json()
    assert [i["title"] for i in listed["items"]] == ["义诊进社区"]
    drop = client.post(f"/api/v1/service-items/{item['id']}/drop", json={}, headers=bearer("community"))
    assert drop.status_code == 422
    done = client.post(
        f"/api/v1/service-items/{item['id']}/complete", json={"note": "已开展"}, headers=bearer("community")
    )
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    again = client.post(f"/api/v1/service-items/{item['id']}/complete", headers=bearer("community"))
    assert again.status_code == 409
    year, quarter = meetings.quarter_of(district_today())
    unmet = client.get(
        f"/api/v1/meetings/unmet?year={year}&quarter={quarter}", headers=bearer("street")
    ).get_json()
    codes = [c["code"] for c in unmet["communities"]]
    assert COMMUNITY not in codes and OTHER_COMMUNITY in codes
