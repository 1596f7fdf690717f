"""The back office's work logs, records, printed sheets, stale grids and joint meetings: pages that call the services."""

import re
import subprocess
from datetime import timedelta

import pytest
from signing_support import bare_demo, sheet_dir, user  # noqa: F401 (fixtures)
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Unit
from app.models.meetings import JointMeeting, ServiceItem, ServiceItemStatus
from app.models.worklogs import PrintedSheet, SheetStatus, SignStatus, WorkLog, WorkRecord
from app.services import meetings, worklogs
from app.services.clock import district_today

pytestmark = pytest.mark.usefixtures("english")


GRID, COMMUNITY, OTHER_COMMUNITY = "610404001001001", "610404001001", "610404001002"


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_grid_worker_writes_a_log_sees_the_signatures_and_prints_the_month(login_as, tmp_path):
    client = login_as("grid")
    assert client.get("/admin/worklog/new/").status_code == 200
    today = district_today().isoformat()
    saved = client.post(
        "/admin/worklog/new/", data={"grid_code": GRID, "date": today, "content": "走访独居老人"}
    )
    assert saved.status_code == 302
    log = db.session.scalar(select(WorkLog).where(WorkLog.content == "走访独居老人"))
    assert log.grid_code == GRID and log.status == SignStatus.AWAITING
    worklogs.sign_log(user("captain"), log)
    db.session.commit()
    page = text(client.get(f"/admin/worklog/details/?id={log.id}"))
    assert user("captain").name in page and "awaiting" in page and 'data-entry-action="edit"' in page
    listed = text(client.get("/admin/worklog/"))
    assert "走访独居老人" in listed and user("captain").name in listed
    edited = client.post(
        f"/admin/worklog/edit/?id={log.id}", data={"id": log.id, "date": today, "content": "改"}
    )
    assert edited.status_code == 302
    db.session.expire_all()
    assert log.content == "改" and log.captain_signer_id is None
    printed = client.post("/admin/worklog/print/", data={"id": log.id})
    assert printed.status_code == 302
    sheet = db.session.scalar(select(PrintedSheet))
    assert sheet.status == SheetStatus.READY
    assert f"/admin/printed_sheet/download/?id={sheet.id}" in text(client.get("/admin/printed_sheet/"))
    pdf = client.get(f"/admin/printed_sheet/download/?id={sheet.id}")
    assert pdf.mimetype == "application/pdf"
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf.data)
    content = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "改" in re.sub(r"\s+", "", content)
    assert login_as("grid2").get(f"/admin/printed_sheet/download/?id={sheet.id}").status_code == 404


def test_a_signed_log_is_locked_in_the_back_office_too(login_as):
    log = worklogs.write_log(user("grid"), GRID, district_today(), "例会")
    db.session.commit()
    worklogs.sign_log(user("captain"), log)
    worklogs.sign_log(user("leader"), log)
    db.session.commit()
    client = login_as("grid")
    assert 'data-entry-action="edit"' not in text(client.get(f"/admin/worklog/details/?id={log.id}"))
    refused = client.post(
        f"/admin/worklog/edit/?id={log.id}", data={"id": log.id, "date": "", "content": "改"}
    )
    assert refused.status_code == 302
    db.session.expire_all()
    assert log.content == "例会"


def test_stale_grids_and_records_pages(login_as, app):
    client = login_as("community")
    page = text(client.get("/admin/stale_worklogs/"))
    assert f'data-stale-grid="{GRID}"' in page
    worklogs.write_log(user("grid"), GRID, district_today(), "今天的日志")
    db.session.commit()
    assert f'data-stale-grid="{GRID}"' not in text(client.get("/admin/stale_worklogs/"))
    built = client.post(
        "/admin/work_record/new/", data={"area_code": COMMUNITY, "month": f"{district_today():%Y-%m}"}
    )
    assert built.status_code == 302
    count = db.session.scalar(select(db.func.count()).select_from(WorkRecord))
    members = db.session.scalar(
        select(db.func.count())
        .select_from(Member)
        .where(Member.active.is_(True), Member.grid_code.startswith(COMMUNITY))
    )
    assert count == members > 0
    record = db.session.scalar(select(WorkRecord).order_by(WorkRecord.id))
    assert "Print the month" in text(client.get(f"/admin/work_record/details/?id={record.id}"))
    assert login_as("grid2").get("/admin/stale_worklogs/").status_code == 200


def test_community_staff_record_a_meeting_and_follow_its_items_in_the_back_office(login_as):
    client = login_as("community")
    assert client.get("/admin/joint_meeting/new/").status_code == 200
    unit = db.session.scalar(select(Unit).where(Unit.community_code == COMMUNITY))
    due = (district_today() + timedelta(days=20)).isoformat()
    form = {
        "area_code": COMMUNITY,
        "held_on": district_today().isoformat(),
        "title": "第四季度联席会议",
        "minutes": "纪要",
        "unit_ids": [str(unit.id)],
        "item-0-title": "义诊进社区",
        "item-0-owner": f"unit:{unit.id}",
        "item-0-due_on": due,
        "item-1-title": "消防通道清理",
        "item-1-owner": f"grid:{GRID}",
        "item-1-due_on": due,
    }
    assert client.post("/admin/joint_meeting/new/", data=form).status_code == 302
    meeting = db.session.scalar(select(JointMeeting))
    assert [i.title for i in meeting.items] == ["义诊进社区", "消防通道清理"]
    page = text(client.get(f"/admin/joint_meeting/details/?id={meeting.id}"))
    assert "义诊进社区" in page and 'data-item-action="complete"' in page
    item = meeting.items[1]
    followed = client.post(
        "/admin/service_item/follow/", data={"id": item.id, "verb": "complete", "note": "已清理"}
    )
    assert followed.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceItem, item.id).status == ServiceItemStatus.DONE
    assert "义诊进社区" in text(client.get("/admin/service_item/"))
    unmet = text(
        client.get("/admin/unmet_quarters/?year={}&quarter={}".format(*meetings.quarter_of(district_today())))
    )
    assert f'data-unmet-community="{COMMUNITY}"' not in unmet
    bad = dict(form, **{"item-0-owner": f"grid:{OTHER_COMMUNITY}001"})
    assert client.post("/admin/joint_meeting/new/", data=bad).status_code == 200
    assert login_as("grid").get("/admin/joint_meeting/new/").status_code == 403


def test_the_units_page_shows_its_service_items(login_as):
    unit = db.session.scalar(select(Unit).where(Unit.community_code == COMMUNITY))
    meetings.record_meeting(
        user("community"),
        area_code=COMMUNITY,
        held_on=district_today(),
        title="会",
        minutes="纪要",
        items=[{"title": "助老服务", "unit_id": unit.id, "due_on": district_today()}],
    )
    db.session.commit()
    page = text(login_as("community").get(f"/admin/unit/details/?id={unit.id}"))
    assert "助老服务" in page


def test_the_dashboard_shows_quiet_grids_entries_awaiting_and_unmet_communities(login_as):
    from app.services import worklogs as service

    worklogs.write_log(user("grid"), GRID, district_today(), "今天的日志")
    db.session.commit()
    figures = service.figures(user("community"))
    assert figures["logs_awaiting"] == 1 and figures["stale"] == figures["grids"] - 1
    page = text(login_as("community").get("/admin/"))
    assert 'data-section="signatures"' in page and 'data-section="meetings"' in page
    assert meetings.figures(user("community"))["communities"] == 1
