"""Monthly work records (工作纪实表) with 双签字, and the printable monthly sheets (PDF, read back with pdftotext)."""

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from signing_support import bare_demo, bearer, sheet_dir, user  # noqa: F401 (fixtures)
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Wish
from app.models.choices import WishStatus
from app.models.visits import HouseholdVisit
from app.models.worklogs import SignStatus, WorkRecord
from app.services import work_records, worklogs
from app.services.clock import day_start, district_today
from app.services.errors import Conflict, Forbidden, Invalid

pytestmark = pytest.mark.usefixtures("english")


GRID, COMMUNITY = "610404001001001", "610404001001"


def member_of(username: str) -> Member:
    return db.session.scalar(select(Member).where(Member.user_id == user(username).id))


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def a_past_month():
    """The first day of a month long enough ago that the demo's own wishes do not fall in it."""
    return (district_today().replace(day=1) - timedelta(days=100)).replace(day=1)


def visit(member: Member, moment: datetime, note: str) -> None:
    from app.services.clock import local_date

    db.session.add(
        HouseholdVisit(
            member_id=member.id,
            grid_code=member.grid_code,
            visited_at=moment,
            visited_on=local_date(moment),
            note=note,
            channel="site",
            created_at=moment,
        )
    )


def past_month_of_work(member: Member):
    """Two visits and one claimed, done and confirmed wish in a past month; one visit the evening before it
    began in the district (late on the last day, UTC) and one that counts although it is the previous day in UTC."""
    month = a_past_month()
    start = day_start(month)  # the district's midnight, in UTC (16:00 the day before)
    visit(member, start + timedelta(minutes=30), "入户走访：独居老人")  # 00:30 local on the 1st: counts
    visit(member, start + timedelta(days=3), "检查燃气")
    visit(member, start - timedelta(minutes=30), "上月最后一天")  # 23:30 local the day before: does not
    wish = db.session.scalar(select(Wish).where(Wish.claimed_by_id == member.id).order_by(Wish.id))
    wish.status, wish.hours = WishStatus.CONFIRMED, 2
    wish.claimed_at = start + timedelta(hours=1)
    wish.done_at = start + timedelta(days=2)
    wish.confirmed_at = start + timedelta(days=3)
    db.session.commit()
    return month, wish


def test_a_record_counts_the_members_month_in_the_district_calendar(demo):
    member = member_of("member")
    month, wish = past_month_of_work(member)
    record = work_records.build_record(user("grid"), member.id, f"{month:%Y-%m}")
    db.session.commit()
    assert (record.visits, record.claims, record.completions, float(record.hours)) == (2, 1, 1, 2.0)
    assert record.status == SignStatus.AWAITING and record.grid_code == member.grid_code
    assert [line["kind"] for line in record.details] == ["visit", "claim", "done", "visit"]
    assert wish.title in {line["text"] for line in record.details}
    with pytest.raises(Conflict):
        work_records.build_record(user("grid"), member.id, f"{month:%Y-%m}")


def test_only_staff_in_scope_build_and_months_to_come_are_refused(demo):
    member = member_of("member")
    with pytest.raises(Forbidden):
        work_records.build_record(user("grid2"), member.id, f"{district_today():%Y-%m}")
    with pytest.raises(Forbidden):
        work_records.build_record(user("captain"), member.id, f"{district_today():%Y-%m}")
    next_month = (district_today().replace(day=28) + timedelta(days=4)).replace(day=1)
    for month in (f"{next_month:%Y-%m}", "2026-13", "soon"):
        with pytest.raises(Invalid):
            work_records.build_record(user("grid"), member.id, month)


def test_a_month_is_built_for_every_active_member_of_the_area_once(demo):
    month = f"{district_today():%Y-%m}"
    built = work_records.build_month(user("community"), COMMUNITY, month)
    db.session.commit()
    members = db.session.scalars(
        select(Member.id).where(Member.active.is_(True), Member.grid_code.startswith(COMMUNITY))
    ).all()
    assert built == len(members) > 0
    assert work_records.build_month(user("community"), COMMUNITY, month) == 0


def test_the_demo_captain_and_leader_sign_a_record_and_an_edit_before_clears(demo):
    member = member_of("member")
    month, _wish = past_month_of_work(member)
    record = work_records.build_record(user("grid"), member.id, f"{month:%Y-%m}")
    db.session.commit()
    work_records.sign_record(user("captain"), record)
    db.session.commit()
    work_records.edit_record(user("grid"), record, note="补充说明", rebuild=True)
    db.session.commit()
    assert record.captain_signer_id is None and record.note == "补充说明" and record.visits == 2
    with pytest.raises(Forbidden):
        work_records.sign_record(user("member"), record)
    db.session.rollback()
    work_records.sign_record(user("leader"), record)
    work_records.sign_record(user("captain"), record)
    db.session.commit()
    assert record.status == SignStatus.SIGNED
    with pytest.raises(Conflict):
        work_records.edit_record(user("grid"), record, note="改")
    with pytest.raises(Conflict):
        work_records.sign_record(user("leader"), record)


def test_records_over_the_api_the_member_sees_their_own(demo, client):
    member = member_of("member")
    month, _wish = past_month_of_work(member)
    body = {"member_id": member.id, "month": f"{month:%Y-%m}"}
    created = client.post("/api/v1/records", json=body, headers=bearer(user("grid")))
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert (record["visits"], record["claims"], record["hours"]) == (2, 1, 2.0)
    assert client.post("/api/v1/records", json=body, headers=bearer(user("grid"))).status_code == 409
    own = client.get(f"/api/v1/records/{record['id']}", headers=bearer(user("member")))
    assert own.status_code == 200 and own.get_json()["actions"] == []
    assert client.get(f"/api/v1/records/{record['id']}", headers=bearer(user("grid2"))).status_code == 404
    signed = client.post(f"/api/v1/records/{record['id']}/sign", headers=bearer(user("leader"))).get_json()
    assert signed["status"] == "awaiting" and signed["signatures"][1]["signer"] == user("leader").name
    listed = client.get("/api/v1/records?status=awaiting", headers=bearer(user("captain"))).get_json()
    assert [r["id"] for r in listed["items"]] == [record["id"]]


# --- the printable sheets ------------------------------------------------------------------------------------
def test_a_grids_month_sheet_is_rendered_by_a_job_and_shows_both_signers_and_times(demo, client, tmp_path):
    log = worklogs.write_log(user("grid"), GRID, district_today(), "组织楼栋长例会，排查消防通道。")
    db.session.commit()
    worklogs.sign_log(user("captain"), log)
    worklogs.sign_log(user("leader"), log)
    db.session.commit()
    headers = bearer(user("grid"))
    asked = client.post(
        "/api/v1/sheets",
        json={"kind": "grid", "grid_code": GRID, "month": f"{log.log_date:%Y-%m}"},
        headers=headers,
    )
    assert asked.status_code == 202, asked.get_json()
    sheet = client.get(f"/api/v1/sheets/{asked.get_json()['id']}", headers=headers).get_json()
    assert sheet["status"] == "ready" and sheet["pdf_url"]  # the embedded job ran after the commit
    pdf = client.get(sheet["pdf_url"], headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data, tmp_path)
    assert "文汇社区第一网格" in text and "组织楼栋长例会" in text
    assert user("captain").name in text and user("leader").name in text
    signed_at = log.captain_signed_at.replace(tzinfo=log.captain_signed_at.tzinfo or UTC)
    from app.services.clock import local_time

    assert local_time(signed_at).strftime("%Y-%m-%d%H:%M") in text
    # outsiders neither ask for nor read it
    assert client.get(f"/api/v1/sheets/{sheet['id']}", headers=bearer(user("grid2"))).status_code == 404
    refused = client.post(
        "/api/v1/sheets",
        json={"kind": "grid", "grid_code": GRID, "month": sheet["month"]},
        headers=bearer(user("member")),
    )
    assert refused.status_code == 403


def test_a_members_month_sheet_shows_the_figures_and_is_printed_again_after_a_change(demo, client, tmp_path):
    member = member_of("member")
    month, _wish = past_month_of_work(member)
    record = work_records.build_record(user("grid"), member.id, f"{month:%Y-%m}")
    db.session.commit()
    headers = bearer(user("grid"))
    body = {"kind": "member", "member_id": member.id, "month": f"{month:%Y-%m}"}
    first = client.post("/api/v1/sheets", json=body, headers=headers).get_json()
    text = pdf_text(client.get(first["pdf_url"], headers=headers).data, tmp_path)
    assert member.name in text and "工作纪实表" in text and "待签" in text
    work_records.sign_record(user("captain"), record)
    work_records.sign_record(user("leader"), record)
    db.session.commit()
    again = client.post("/api/v1/sheets", json=body, headers=headers).get_json()
    assert again["id"] == first["id"] and again["revision"] == 2
    text = pdf_text(client.get(again["pdf_url"], headers=headers).data, tmp_path)
    assert "待签" not in text and user("captain").name in text and user("leader").name in text
    assert db.session.get(WorkRecord, record.id).status == SignStatus.SIGNED
