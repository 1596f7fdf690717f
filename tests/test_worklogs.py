"""Work logs with 双签字: written by the grid's staff, signed by its vanguard captain and grid leader, then locked."""

from datetime import timedelta

import pytest
from signing_support import bare_demo, bearer, user  # noqa: F401 (a fixture)
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, GridRole, TeamPerson, User
from app.models.worklogs import SignPlace, SignStatus, WorkLog
from app.services import worklogs
from app.services.clock import district_today
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.users import create_user

pytestmark = pytest.mark.usefixtures("english")


GRID, OTHER_GRID = "610404001001001", "610404001001002"


def hold(place: str, holder: User, grid: str = GRID) -> None:
    """Link the grid's place to `holder`'s account (the demo's row when there is one)."""
    person = db.session.scalar(select(TeamPerson).where(TeamPerson.user_id == holder.id))
    if person is None:
        person = TeamPerson(name=holder.name, area_code=grid, user_id=holder.id)
        db.session.add(person)
        db.session.flush()
    row = db.session.scalar(select(GridRole).where(GridRole.grid_code == grid, GridRole.role == place))
    if row is None:
        row = GridRole(grid_code=grid, role=place, person_id=person.id)
        db.session.add(row)
    row.person_id = person.id
    db.session.commit()


def signers(grid: str = GRID) -> tuple[User, User]:
    """Two members holding the captain's and the leader's places of `grid`."""
    captain = create_user(f"cap{grid[-3:]}", "member", "captain-password-1", area_code=grid, name="张队长")
    leader = create_user(f"lead{grid[-3:]}", "member", "leader-password-1", area_code=grid, name="刘网格长")
    db.session.commit()
    hold(SignPlace.CAPTAIN, captain, grid)
    hold(SignPlace.LEADER, leader, grid)
    return captain, leader


def write(content="走访独居老人3户，排查楼道堆物。", day=None, author="grid") -> WorkLog:
    log = worklogs.write_log(user(author), GRID, day or district_today(), content)
    db.session.commit()
    return log


# --- the rules, through the service ----------------------------------------------------------------------------
def test_two_signatures_make_a_log_signed_and_lock_it(demo):
    captain, leader = signers()
    log = write()
    worklogs.sign_log(captain, log)
    db.session.commit()
    assert log.status == SignStatus.AWAITING and log.captain_signer_id == captain.id and log.captain_signed_at
    worklogs.sign_log(leader, log)
    db.session.commit()
    assert log.status == SignStatus.SIGNED and log.leader_signer_id == leader.id and log.signed_at is not None
    with pytest.raises(Conflict):
        worklogs.edit_log(user("grid"), log, content="改")
    db.session.rollback()
    steps = db.session.scalars(
        select(AuditLog.after)
        .where(AuditLog.model == "WorkLog", AuditLog.action == "update")
        .order_by(AuditLog.id)
    )
    assert [s["step"] for s in steps] == ["sign", "countersign"]


def test_one_person_holding_both_places_gives_one_signature_only(demo):
    both = create_user("both", "member", "both-password-1", area_code=GRID, name="王兼职")
    db.session.commit()
    hold(SignPlace.CAPTAIN, both)
    hold(SignPlace.LEADER, both)
    log = write()
    worklogs.sign_log(both, log)
    db.session.commit()
    for place in (None, SignPlace.LEADER, SignPlace.CAPTAIN):
        with pytest.raises(Conflict) as refused:
            worklogs.sign_log(both, log, place)
        assert refused.value.code == "already_signed"
        db.session.rollback()
    assert log.status == SignStatus.AWAITING


def test_only_the_two_holders_of_the_grid_may_sign(demo):
    signers()
    other_captain, _other_leader = signers(OTHER_GRID)
    log = write()
    for outsider in (user("member"), user("grid"), user("community"), user("admin"), other_captain):
        with pytest.raises(Forbidden):
            worklogs.sign_log(outsider, log)
        db.session.rollback()
    assert log.captain_signer_id is None and log.leader_signer_id is None


def test_signing_twice_is_a_conflict(demo):
    captain, leader = signers()
    log = write()
    worklogs.sign_log(captain, log)
    db.session.commit()
    with pytest.raises(Conflict):
        worklogs.sign_log(captain, log)
    db.session.rollback()
    worklogs.sign_log(leader, log)
    db.session.commit()
    with pytest.raises(Conflict):
        worklogs.sign_log(leader, log)


def test_an_edit_before_both_signatures_clears_the_signature_given(demo):
    captain, leader = signers()
    log = write()
    worklogs.sign_log(captain, log)
    db.session.commit()
    worklogs.edit_log(user("grid"), log, content="更正：走访独居老人4户。")
    db.session.commit()
    assert log.content == "更正：走访独居老人4户。"
    assert (log.captain_signer_id, log.captain_signed_at, log.status) == (None, None, SignStatus.AWAITING)
    worklogs.sign_log(leader, log)
    worklogs.sign_log(captain, log)
    db.session.commit()
    assert log.status == SignStatus.SIGNED


def test_only_the_grids_staff_write_and_edit_and_values_are_checked(demo):
    with pytest.raises(Forbidden):
        worklogs.write_log(user("grid2"), GRID, district_today(), "x")
    with pytest.raises(Forbidden):
        worklogs.write_log(user("member"), GRID, district_today(), "x")
    for grid, day, content in (
        (GRID, district_today() + timedelta(days=1), "x"),
        (GRID, district_today(), "  "),
        ("610404001001", district_today(), "x"),  # a community, not a grid
        (GRID, "2026-13-01", "x"),
    ):
        with pytest.raises(Invalid):
            worklogs.write_log(user("grid"), grid, day, content)
    log = write()
    with pytest.raises(Forbidden):
        worklogs.edit_log(user("grid2"), log, content="x")
    worklogs.write_log(user("community"), GRID, district_today(), "社区代写")  # staff in scope


def test_grids_without_a_log_for_n_days_are_flagged_in_the_district_calendar(demo, app):
    app.config["WORKLOG_STALE_DAYS"] = 7
    try:
        today = district_today()
        admin = user("admin")
        flagged = {code for code, _name, _last in worklogs.stale_grids(admin)}
        assert {GRID, OTHER_GRID} <= flagged
        before = worklogs.stale_count(admin)
        write(day=today - timedelta(days=7))  # exactly N days ago: not yet stale
        worklogs.write_log(user("grid2"), OTHER_GRID, today - timedelta(days=8), "八天前")
        db.session.commit()
        rows = {code: last for code, _name, last in worklogs.stale_grids(admin)}
        assert GRID not in rows and rows[OTHER_GRID] == today - timedelta(days=8)
        assert worklogs.stale_count(admin) == before - 1
        assert {code for code, _n, _l in worklogs.stale_grids(user("grid"))} == set()
        assert {code for code, _n, _l in worklogs.stale_grids(user("grid2"))} == {OTHER_GRID}
    finally:
        app.config.pop("WORKLOG_STALE_DAYS", None)


# --- the API -------------------------------------------------------------------------------------------------
def test_the_full_path_over_the_api_with_the_demo_signers_awaiting_then_signed_then_locked(demo, client):
    captain, leader = user("captain"), user("leader")  # the demo's captain and leader of 文汇社区第一网格
    body = {"grid_code": GRID, "date": district_today().isoformat(), "content": "组织楼栋长例会。"}
    created = client.post("/api/v1/worklogs", json=body, headers=bearer(user("grid")))
    assert created.status_code == 201, created.get_json()
    log = created.get_json()
    assert log["status"] == "awaiting" and [s["signer"] for s in log["signatures"]] == [None, None]
    seen = client.get(f"/api/v1/worklogs/{log['id']}", headers=bearer(captain)).get_json()
    assert seen["actions"] == ["sign"]
    first = client.post(f"/api/v1/worklogs/{log['id']}/sign", headers=bearer(captain))
    assert first.status_code == 200 and first.get_json()["status"] == "awaiting"
    assert first.get_json()["signatures"][0]["signer"] == captain.name
    twice = client.post(f"/api/v1/worklogs/{log['id']}/sign", headers=bearer(captain))
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_signed"
    outsider = client.post(f"/api/v1/worklogs/{log['id']}/sign", headers=bearer(user("community")))
    assert outsider.status_code == 403
    second = client.post(f"/api/v1/worklogs/{log['id']}/sign", headers=bearer(leader)).get_json()
    assert second["status"] == "signed" and all(s["signed_at"] for s in second["signatures"])
    assert [s["signer"] for s in second["signatures"]] == [captain.name, leader.name]
    headers = bearer(user("grid"))
    edit = client.post(f"/api/v1/worklogs/{log['id']}/edit", json={"content": "改"}, headers=headers)
    assert edit.status_code == 409
    assert (
        client.get(f"/api/v1/worklogs/{log['id']}", headers=headers).get_json()["content"]
        == "组织楼栋长例会。"
    )


def test_an_outsider_who_can_see_the_log_is_refused_with_403(demo, client):
    signers()
    other_captain, _ = signers(OTHER_GRID)
    hold(SignPlace.CAPTAIN, other_captain, OTHER_GRID)
    log = write()
    # the community's staff see the log (their area) but hold no place in the grid
    answer = client.post(f"/api/v1/worklogs/{log.id}/sign", headers=bearer(user("community")))
    assert answer.status_code == 403
    hidden = client.post(f"/api/v1/worklogs/{log.id}/sign", headers=bearer(other_captain))
    assert hidden.status_code == 404  # a signer of another grid does not see this grid's log


def test_a_repeated_idempotency_key_writes_one_log(demo, client):
    headers = {**bearer(user("grid")), "Idempotency-Key": "log-2026-12-02-1"}
    body = {"grid_code": GRID, "date": district_today().isoformat(), "content": "巡查"}
    first = client.post("/api/v1/worklogs", json=body, headers=headers)
    again = client.post("/api/v1/worklogs", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db.session.scalar(select(func.count()).select_from(WorkLog)) == 1


def test_bad_values_are_422_and_the_stale_list_answers(demo, client):
    headers = bearer(user("grid"))
    future = (district_today() + timedelta(days=2)).isoformat()
    answer = client.post(
        "/api/v1/worklogs", json={"grid_code": GRID, "date": future, "content": "x"}, headers=headers
    )
    assert answer.status_code == 422
    stale = client.get("/api/v1/worklogs/stale-grids", headers=headers)
    assert stale.status_code == 200 and [g["grid_code"] for g in stale.get_json()["items"]] == [GRID]
