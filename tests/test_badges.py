"""Work badges (持证上岗): issued per grid and per person, printed, checked by anyone, revoked when people leave."""

import re
import subprocess

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, AuditLog, GridRole, Member, TeamPerson, User
from app.models.badges import Badge, Printout
from app.services import badges
from app.services.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.usefixtures("english")

GRID = "610404001001001"  # 文汇社区第一网格
SERIAL = re.compile(r"^WB-[A-Z2-7]{16}$")


@pytest.fixture(autouse=True)
def printout_dir(app, tmp_path):
    before = app.config.get("PRINTOUT_DIR")
    app.config["PRINTOUT_DIR"] = str(tmp_path / "printouts")
    yield tmp_path / "printouts"
    app.config["PRINTOUT_DIR"] = before


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def grid_page(client) -> str:
    grid_id = db.session.scalar(select(Area.id).where(Area.code == GRID))
    return client.get(f"/admin/area/details/?id={grid_id}").get_data(as_text=True)


def issue_grid(staff) -> list[Badge]:
    response = staff.post("/admin/badge/issue/", data={"grid": GRID})
    assert response.status_code == 302
    db.session.expire_all()
    return list(db.session.scalars(select(Badge).where(Badge.grid_code == GRID)))


def member_of_grid() -> Member:
    return db.session.scalar(
        select(Member).where(Member.grid_code == GRID, Member.active.is_(True), Member.user_id.is_(None))
    )


@pytest.mark.chinese
def test_staff_issue_a_badge_for_every_team_place_and_checked_in_member(login_as):
    staff = login_as("community")
    assert 'data-station-action="issue-badges"' in grid_page(staff)
    issued = issue_grid(staff)
    places = db.session.scalars(select(GridRole.id).where(GridRole.grid_code == GRID)).all()
    members = db.session.scalars(select(Member.id).where(Member.grid_code == GRID, Member.active)).all()
    assert sorted(b.grid_role_id for b in issued if b.grid_role_id) == sorted(places)
    assert sorted(b.member_id for b in issued if b.member_id) == sorted(members)
    assert all(SERIAL.match(b.serial) for b in issued)
    assert len({b.serial for b in issued}) == len(issued)
    captain = next(b for b in issued if b.grid_role is not None and b.grid_role.role == "vanguard_captain")
    assert captain.role_text == "先锋队长"  # printed in the district's language, whatever the page's
    page = grid_page(staff)
    assert all(f'data-badge-serial="{b.serial}"' in page for b in issued)
    # a second run issues nothing more
    assert len(issue_grid(staff)) == len(issued)
    assert db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.model == "Badge")
    ) == len(issued)


@pytest.mark.chinese
def test_a_badge_verifies_then_reads_revoked_after_the_member_checks_out(client, login_as):
    staff = login_as("grid")
    member = member_of_grid()
    response = staff.post("/admin/badge/issue/", data={"member": member.id})
    assert response.status_code == 302
    badge = badges.in_force_for_member(member.id)
    page = client.get(f"/verify/badge/{badge.serial}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-verify-status="valid"' in html
    assert member.name not in html and member.name[0] + "*" in html
    assert "文汇社区第一网格" in html
    body = client.get(f"/api/v1/badges/{badge.serial}").get_json()
    assert body["status"] == "valid" and body["holder"].startswith(member.name[0]) and "*" in body["holder"]
    assert body["grid"] == {"code": GRID, "name": "文汇社区第一网格"}
    # the member checks out: staff untick "active" in the back office
    member.active = False
    db.session.commit()
    html = client.get(f"/verify/badge/{badge.serial}").get_data(as_text=True)
    assert 'data-verify-status="revoked"' in html
    body = client.get(f"/api/v1/badges/{badge.serial}").get_json()
    assert body["status"] == "revoked" and body["revoked_at"]
    db.session.expire_all()
    assert db.session.get(Badge, badge.id).revoked_reason == "成员已退出报到。"
    with pytest.raises(Conflict):
        badges.issue_member_badge(user("grid"), db.session.get(Member, member.id))


def test_a_team_place_given_to_someone_else_loses_its_badge(client, login_as):
    staff = login_as("community")
    issue_grid(staff)
    place = db.session.scalar(select(GridRole).where(GridRole.grid_code == GRID, GridRole.role == "liaison"))
    badge = badges.in_force_for_place(place.id)
    newcomer = TeamPerson(name="新联络员", phone="13900000000", area_code=GRID)
    db.session.add(newcomer)
    db.session.flush()
    place.person_id = newcomer.id
    db.session.commit()
    assert client.get(f"/api/v1/badges/{badge.serial}").get_json()["status"] == "revoked"
    assert badges.in_force_for_place(place.id) is None
    issue_grid(staff)  # the new holder gets a badge of their own
    assert badges.in_force_for_place(place.id).holder_name == "新联络员"


def test_a_renamed_team_person_loses_the_badges_bearing_the_old_name(client, login_as):
    issue_grid(login_as("community"))
    place = db.session.scalar(
        select(GridRole).where(GridRole.grid_code == GRID, GridRole.role == "grid_worker")
    )
    serial = badges.in_force_for_place(place.id).serial
    place.person.name = "改名后"
    db.session.commit()
    assert client.get(f"/api/v1/badges/{serial}").get_json()["status"] == "revoked"


def test_a_deleted_team_place_loses_its_badge(client, login_as):
    issue_grid(login_as("community"))
    place = db.session.scalar(
        select(GridRole).where(GridRole.grid_code == GRID, GridRole.role == "red_steward")
    )
    serial = badges.in_force_for_place(place.id).serial
    db.session.delete(place)
    db.session.commit()
    assert client.get(f"/api/v1/badges/{serial}").get_json()["status"] == "revoked"


def test_staff_revoke_a_badge_with_a_reason(client, login_as):
    staff = login_as("community")
    issue_grid(staff)
    badge = db.session.scalar(select(Badge).where(Badge.member_id.is_not(None)))
    form = staff.get(f"/admin/badge/revoke/?id={badge.id}")
    assert form.status_code == 200
    empty = staff.post(f"/admin/badge/revoke/?id={badge.id}", data={"reason": "  "})
    assert empty.status_code == 200 and "Say why the badge is revoked." in empty.get_data(as_text=True)
    done = staff.post(f"/admin/badge/revoke/?id={badge.id}", data={"reason": "工作证遗失"})
    assert done.status_code == 302
    assert client.get(f"/api/v1/badges/{badge.serial}").get_json()["status"] == "revoked"
    db.session.expire_all()
    with pytest.raises(Conflict):
        badges.revoke_badge(user("community"), db.session.get(Badge, badge.id), "again")


def test_staff_of_another_area_can_neither_issue_nor_revoke(login_as):
    issue_grid(login_as("community"))
    badge = db.session.scalar(select(Badge))
    other = login_as("grid2")
    assert other.post("/admin/badge/issue/", data={"grid": GRID}).status_code == 404
    assert other.post("/admin/badge/print/", data={"grid": GRID}).status_code == 404
    assert other.post("/admin/badge/print/", data={"id": badge.id}).status_code == 404
    assert other.get(f"/admin/badge/revoke/?id={badge.id}").status_code == 404
    with pytest.raises(Forbidden):
        badges.issue_grid_badges(user("grid2"), GRID)
    with pytest.raises(Invalid):
        badges.revoke_badge(user("community"), badge, "")


def test_unknown_and_malformed_serials_are_404(client, demo):
    for serial in ("WB-AAAAAAAAAAAAAAAA", "nonsense", "WB-" + "A" * 500, "OG-AAAAAAAAAAAAAAAA"):
        page = client.get(f"/verify/badge/{serial}")
        assert page.status_code == 404 and 'data-verify-status="unknown"' in page.get_data(as_text=True)
        body = client.get(f"/api/v1/badges/{serial}")
        assert body.status_code == 404 and body.get_json()["status"] == "unknown"
        assert len(body.get_json()["serial"]) <= 40


def test_badges_of_a_grid_print_as_one_pdf_with_names_and_serials(login_as, printout_dir):
    staff = login_as("community")
    issued = issue_grid(staff)
    response = staff.post("/admin/badge/print/", data={"grid": GRID})
    assert response.status_code == 302
    printout = db.session.scalar(select(Printout).order_by(Printout.id.desc()))
    assert printout.kind == "badges" and printout.status == "ready"
    pdf = staff.get(f"/admin/printout/download/?id={printout.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = printout_dir / "badges.pdf"
    path.write_bytes(pdf.data)
    text = re.sub(
        r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    )
    for badge in issued:
        assert badge.holder_name in text and badge.serial in text
    assert "文汇社区第一网格" in text
    one = issued[0]
    response = staff.post("/admin/badge/print/", data={"id": one.id})
    printout = db.session.scalar(select(Printout).order_by(Printout.id.desc()))
    assert printout.kind == "badge" and printout.badge_id == one.id


def test_a_revoked_badge_is_not_printed(login_as):
    staff = login_as("community")
    issue_grid(staff)
    badge = db.session.scalar(select(Badge))
    badges.revoke_badge(user("community"), badge, "test")
    db.session.commit()
    with pytest.raises(Conflict):
        from app.services.printouts import request_badge

        request_badge(user("community"), badge)


def test_checking_a_member_out_in_the_back_office_revokes_their_badge(client, login_as):
    staff = login_as("community")
    member = member_of_grid()
    staff.post("/admin/badge/issue/", data={"member": member.id})
    serial = badges.in_force_for_member(member.id).serial
    form = {
        "name": member.name,
        "phone": "",
        "unit": str(member.unit_id),
        "grid": str(db.session.scalar(select(Area.id).where(Area.code == member.grid_code))),
        "duties": (member.duties or "").split(","),
        "checked_in_on": member.checked_in_on.isoformat() if member.checked_in_on else "",
        # "active" left out: the box unticked
    }
    response = staff.post(f"/admin/member/edit/?id={member.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(Member, member.id).active is False
    assert client.get(f"/api/v1/badges/{serial}").get_json()["status"] == "revoked"
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.model == "Badge", AuditLog.action == "update")
    ).all()
    assert [a.after["status"] for a in audit] == ["revoked"]
