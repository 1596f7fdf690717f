"""Emergency call-ups (社区吹哨、党员报到): raise → answers → check-ins → close, over the API and the service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from signing_support import bearer, user
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Certificate, Member, OutboxMessage
from app.models.base import utcnow
from app.models.callups import Callup, CallupResponse
from app.services import callups
from app.services.errors import Conflict, Forbidden, Invalid, NotFound

pytestmark = pytest.mark.usefixtures("english")

COMMUNITY, STREET, GRID = "610404001001", "610404001", "610404001001001"
OTHER_COMMUNITY_GRID = "610404001002001"


def raise_one(username="community", area=COMMUNITY, **extra):
    values = {
        "area_code": area,
        "title": "防汛抢险",
        "details": "转移沙袋，巡查低洼地段",
        "muster_point": "文汇社区党群服务中心",
        "needed": 2,
        "starts_at": utcnow(),
        "hours": Decimal(3),
        **extra,
    }
    callup = callups.raise_callup(user(username), **values)
    db.session.commit()
    return callup


def member_of(username: str) -> Member:
    return db.session.scalar(select(Member).where(Member.user_id == user(username).id))


def hours_of(username: str) -> Decimal:
    db.session.expire_all()
    return member_of(username).service_hours


def post(client, path, username, body=None, key=None):
    headers = {**bearer(user(username)), **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)


def get(client, path, username):
    return client.get(f"/api/v1{path}", headers=bearer(user(username)))


def test_raise_answer_check_in_close_through_the_api_credits_hours_once(demo, client):
    before = {name: hours_of(name) for name in ("member", "captain")}
    body = {
        "area_code": COMMUNITY,
        "title": "防汛抢险",
        "details": "转移沙袋",
        "muster_point": "社区党群服务中心",
        "needed": 2,
        "starts_at": utcnow().isoformat(),
        "hours": 2.5,
    }
    existing = db.session.scalar(select(func.count()).select_from(Callup))
    raised = post(client, "/callups", "community", body, key="callup-1")
    assert raised.status_code == 201, raised.json
    answer = raised.json
    assert answer["status"] == "open" and answer["needed"] == 2 and answer["checkin_token"]
    callup_id, token = answer["id"], answer["checkin_token"]
    again = post(client, "/callups", "community", body, key="callup-1")  # the same key: the same call-up
    assert (
        again.json["id"] == callup_id
        and db.session.scalar(select(func.count()).select_from(Callup)) == existing + 1
    )

    mine = post(client, f"/callups/{callup_id}/respond", "member", {"answer": "cannot"})
    assert mine.status_code == 200 and mine.json["mine"]["answer"] == "cannot"
    assert "checkin_token" not in mine.json and "people" not in mine.json
    mine = post(
        client, f"/callups/{callup_id}/respond", "member", {"answer": "coming"}
    )  # the last one counts
    assert mine.json["mine"]["answer"] == "coming" and mine.json["counts"]["cannot"] == 0

    checked = post(client, f"/callups/{callup_id}/checkin", "member", {"token": token})
    assert checked.status_code == 200 and checked.json["mine"]["arrived_at"]
    captain = post(client, f"/callups/{callup_id}/checkin", "captain", {"token": token})  # no answer before
    assert captain.json["mine"]["answer"] == "coming"

    roll = get(client, f"/callups/{callup_id}", "community").json
    called = roll["figures"]["called"]
    assert roll["counts"] == {"coming": 2, "cannot": 0, "arrived": 2, "no_answer": called - 2}
    assert roll["figures"]["arrival_rate"] == 1.0 and roll["figures"]["needed_reached_at"]
    assert {p["name"] for p in roll["people"] if p["arrived_at"]} == {
        member_of("member").name,
        member_of("captain").name,
    }

    assigned = post(
        client,
        f"/callups/{callup_id}/assign",
        "leader",
        {"member_id": member_of("member").id, "task": "搬运沙袋"},
    )
    assert assigned.status_code == 200
    assert [p["task"] for p in assigned.json["people"] if p["member_id"] == member_of("member").id] == [
        "搬运沙袋"
    ]

    closed = post(client, f"/callups/{callup_id}/close", "community")
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert (
        closed.json["figures"]["arrived"] == 2
        and closed.json["figures"]["seconds_to_first_arrival"] is not None
    )
    assert hours_of("member") == before["member"] + Decimal("2.5")
    assert hours_of("captain") == before["captain"] + Decimal("2.5")
    certificates = db.session.scalars(select(Certificate).where(Certificate.callup_id == callup_id)).all()
    assert {c.member_id for c in certificates} == {member_of("member").id, member_of("captain").id}
    assert {c.kind for c in certificates} == {"callup"}
    jobs = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "certificate.render")
    )
    assert jobs >= 2

    twice = post(client, f"/callups/{callup_id}/close", "community")
    assert twice.status_code == 409
    assert hours_of("member") == before["member"] + Decimal("2.5")  # credited once
    late = post(client, f"/callups/{callup_id}/respond", "member", {"answer": "cannot"})
    assert late.status_code == 409


def test_outsiders_are_refused_and_the_token_stays_with_staff(demo, client):
    callup = raise_one(area=GRID)
    assert callup.grid_code == GRID  # a call-up to a grid musters there
    for username in ("resident", "dept", "hotline"):
        response = post(client, f"/callups/{callup.id}/respond", username, {"answer": "coming"})
        assert response.status_code in (403, 404), username
        assert "checkin_token" not in get(client, f"/callups/{callup.id}", username).json
    other = raise_one(area=OTHER_COMMUNITY_GRID, username="street")
    assert post(client, f"/callups/{other.id}/respond", "member", {"answer": "coming"}).status_code == 404
    assert get(client, f"/callups/{other.id}", "member").status_code == 404
    assert get(client, f"/callups/{other.id}", "community").status_code == 404
    assert (
        "checkin_token" not in get(client, f"/callups/{callup.id}", "captain").json
    )  # a lead, still a member
    assert get(client, f"/callups/{callup.id}", "grid").json["checkin_token"] == callup.checkin_token
    # members cannot mark arrivals or close
    member_id = member_of("member").id
    assert (
        post(client, f"/callups/{callup.id}/arrived", "member", {"member_id": member_id}).status_code == 403
    )
    assert post(client, f"/callups/{callup.id}/close", "member").status_code == 403
    assert post(client, f"/callups/{callup.id}/close", "grid").status_code == 403  # grid workers do not close


def test_a_wrong_token_is_refused_and_nothing_is_recorded(demo, client):
    callup = raise_one()
    # one character off: the last one changed, whatever it was (a token ending in "x" made "x" the right one)
    last = "y" if callup.checkin_token.endswith("x") else "x"
    for token in ("nope", callup.checkin_token[:-1] + last, "密码", "x" * 64):
        response = post(client, f"/callups/{callup.id}/checkin", "member", {"token": token})
        assert response.status_code in (403, 422), token
    response = db.session.scalar(
        select(CallupResponse).where(
            CallupResponse.callup_id == callup.id, CallupResponse.member_id == member_of("member").id
        )
    )
    assert response.arrived_at is None
    with pytest.raises(Forbidden):
        callups.check_in(user("member"), callup.id, "wrong")


def test_hostile_input_gets_clean_refusals(demo, client):
    good = {
        "area_code": COMMUNITY,
        "title": "t",
        "muster_point": "p",
        "needed": 1,
        "starts_at": utcnow().isoformat(),
    }
    for change in (
        {"needed": 0},
        {"needed": "5"},
        {"needed": True},
        {"hours": -1},
        {"hours": "NaN"},
        {"hours": 1e9},
        {"area_code": "999999999"},
        {"area_code": "610404001001001999"},
        {"title": "\x00"},
        {"starts_at": "yesterday"},
        {"starts_at": (utcnow() + timedelta(days=90)).isoformat()},
        {"grid_code": OTHER_COMMUNITY_GRID},
        {"muster_point": ""},
    ):
        response = post(client, "/callups", "community", {**good, **change})
        assert response.status_code == 422, (change, response.json)
    assert post(client, "/callups", "community", {**good, "area_code": "610404002"}).status_code == 403
    assert post(client, "/callups", "grid", good).status_code == 403
    assert post(client, "/callups", "member", good).status_code == 403
    existing = db.session.scalar(select(func.count()).select_from(Callup))
    callup = raise_one()
    for path, body in (
        ("respond", {"answer": "maybe"}),
        ("respond", {"answer": ["coming"]}),
        ("checkin", {"token": None}),
        ("arrived", {"member_id": "1; drop"}),
        ("arrived", {"member_id": 2**40}),
        ("assign", {"member_id": 1}),
        ("cancel", {}),
    ):
        response = post(client, f"/callups/{callup.id}/{path}", "community", body)
        assert response.status_code in (403, 422), (path, body, response.status_code)
    assert post(client, "/callups/999999/respond", "member", {"answer": "coming"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Callup)) == existing + 1


def test_service_rules_answers_arrivals_tasks_and_cancel(demo):
    callup = raise_one(needed=1, hours=None)
    assert callup.called == db.session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.active.is_(True), Member.grid_code.startswith(COMMUNITY))
    )
    member = member_of("member")
    with pytest.raises(Invalid):
        callups.respond(user("member"), callup.id, "maybe")
    with pytest.raises(Conflict):  # tasks go to those who arrived
        callups.assign_task(user("leader"), callup.id, member.id, "巡查")
    db.session.rollback()
    callups.mark_arrived(user("leader"), callup.id, member.id)  # the muster grid's leader
    db.session.commit()
    with pytest.raises(Conflict):  # arrived: no "cannot" any more
        callups.respond(user("member"), callup.id, "cannot")
    db.session.rollback()
    with pytest.raises(Invalid):  # not a member of the area
        callups.mark_arrived(
            user("street"),
            callup.id,
            db.session.scalar(select(Member.id).where(Member.grid_code == OTHER_COMMUNITY_GRID)),
        )
    db.session.rollback()
    numbers = callups.figures(callup)
    assert numbers["arrived"] == 1 and numbers["needed_reached_at"] == numbers["first_arrival_at"]
    with pytest.raises(Invalid):
        callups.cancel(user("community"), callup.id, " ")
    db.session.rollback()
    callups.cancel(user("community"), callup.id, "险情解除")
    db.session.commit()
    assert callup.status == "cancelled" and callup.cancel_reason == "险情解除"
    with pytest.raises(Conflict):
        callups.close(user("community"), callup.id)
    db.session.rollback()
    with pytest.raises(NotFound):
        callups.get_for(user("resident"), callup.id)
    steps = db.session.scalars(
        select(AuditLog.after).where(AuditLog.model == "Callup").order_by(AuditLog.id)
    ).all()
    assert [s.get("step") for s in steps] == [None, "mark_arrived", "cancel"]
    assert all("checkin_token" not in s for s in steps)


def test_closing_without_hours_credits_nothing_and_figures_are_archived(demo):
    callup = raise_one(needed=3, hours=None)
    before = hours_of("member")
    callups.check_in(user("member"), callup.id, callup.checkin_token)
    callups.respond(user("captain"), callup.id, "coming")
    db.session.commit()
    callups.close(user("street"), callup.id)  # street staff close a call-up of their community
    db.session.commit()
    assert hours_of("member") == before
    assert (
        db.session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.callup_id == callup.id)
        )
        == 0
    )
    assert (callup.arrived_count, callup.coming_count, callup.needed_reached_at) == (1, 2, None)
    figures = callups.figures(callup)
    assert figures["arrival_rate"] == 0.5 and figures["first_arrival_at"] is not None
    listed = callups.open_for_member(user("member"))
    assert callup not in listed


def test_the_demo_has_an_open_callup_the_member_and_the_captain_answer(demo, client):
    from app.services.demo import seed_demo
    from app.services.demo.callups import TITLE

    callup = db.session.scalar(select(Callup).where(Callup.title == TITLE))
    assert callup.status == "open"
    for username in ("member", "captain"):
        assert callup in callups.open_for_member(user(username))
        answered = post(client, f"/callups/{callup.id}/respond", username, {"answer": "coming"})
        assert answered.status_code == 200 and answered.json["mine"]["answer"] == "coming"
    listed = get(client, "/callups", "member").json["items"]
    assert [item["id"] for item in listed] == [callup.id]
    seed_demo()  # again: nothing added
    assert db.session.scalar(select(func.count()).select_from(Callup).where(Callup.title == TITLE)) == 1


def test_figures_count_from_the_raise_and_are_archived_at_close(demo):
    from sqlalchemy import update

    callup = raise_one(needed=2, hours=None)
    rows = db.session.scalars(
        select(CallupResponse).where(CallupResponse.callup_id == callup.id).order_by(CallupResponse.id)
    ).all()
    start = callup.created_at
    for row, minutes in zip(rows, (5, 1, 2)):  # arrivals 1, 2 and 5 minutes after the raise
        db.session.execute(
            update(CallupResponse)
            .where(CallupResponse.id == row.id)
            .values(answer="coming", arrived_at=start + timedelta(minutes=minutes), arrived_via="staff")
        )
    db.session.execute(update(CallupResponse).where(CallupResponse.id == rows[3].id).values(answer="coming"))
    db.session.execute(update(CallupResponse).where(CallupResponse.id == rows[4].id).values(answer="cannot"))
    db.session.commit()
    live = callups.figures(callup)
    assert (live["coming"], live["cannot"], live["arrived"], live["no_answer"]) == (4, 1, 3, len(rows) - 5)
    assert (live["seconds_to_first_arrival"], live["seconds_to_needed"], live["arrival_rate"]) == (
        60,
        120,
        0.75,
    )
    callups.close(user("community"), callup.id)
    db.session.commit()
    db.session.execute(update(CallupResponse).where(CallupResponse.id == rows[3].id).values(answer="cannot"))
    db.session.commit()  # the roll changing afterwards (it cannot through the service) leaves the archive as it was
    archived = callups.figures(callup)
    assert (archived["seconds_to_first_arrival"], archived["seconds_to_needed"]) == (60, 120)
    assert (archived["coming"], archived["arrived"], archived["arrival_rate"]) == (4, 3, 0.75)
    later = raise_one(needed=1, hours=None, starts_at=utcnow() + timedelta(hours=1))  # counts from its start
    member = member_of("member")
    callups.mark_arrived(user("community"), later.id, member.id)
    db.session.commit()
    assert callups.figures(later)["seconds_to_first_arrival"] == 0  # arrived before the start


def test_an_action_with_a_stale_expected_status_does_nothing(demo, client):
    callup = raise_one()
    callups.cancel(user("community"), callup.id, "误发")
    db.session.commit()
    stale = post(client, f"/callups/{callup.id}/close", "community", {"expected_status": "open"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "status_mismatch"
    fresh = raise_one()
    answered = post(
        client, f"/callups/{fresh.id}/respond", "member", {"answer": "coming", "expected_status": "open"}
    )
    assert answered.status_code == 200 and answered.json["mine"]["answer"] == "coming"
    assert (
        post(client, f"/callups/{fresh.id}/respond", "member", {"expected_status": "nope"}).status_code == 422
    )
