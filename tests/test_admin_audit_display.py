"""The audit log as staff read it: Chinese record names linked to the record, changes as labelled lines."""

import csv
import io
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Resident, User, Wish
from app.models.choices import WishStatus
from app.services import audit, events, wishes

GRID = "610404001001001"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def audit_page(client, object_id, model) -> str:
    entry = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.model == model, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.id.desc())
    )
    assert entry is not None
    return client.get(f"/admin/auditlog/details/?id={entry.id}").get_data(as_text=True)


def _cells(page: str, column: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", c).strip()
        for c in re.findall(rf'<td class="col-{column}">(.*?)</td>', page, re.DOTALL)
    ]


def test_service_steps_and_a_resident_edit_read_in_chinese_with_links(login_as):
    grid = user("grid")
    with audit.acting_through("api"):
        event, _created = events.report_event(
            grid,
            title="楼道堆放杂物",
            description="堵塞消防通道",
            matter_code="HW-001",
            grid_code=GRID,
            location_text="3号楼2单元",
        )
        events.accept_event(grid, event)
    wish = db.session.scalar(select(Wish).where(Wish.status == WishStatus.SUBMITTED, Wish.grid_code == GRID))
    with audit.acting_through("site"):
        wishes.publish_wish(grid, wish)
    db.session.commit()
    event_id, wish_id = event.id, wish.id
    client = login_as("admin")
    resident = db.session.scalar(select(Resident).where(Resident.grid_code == GRID).order_by(Resident.id))
    response = client.post(
        f"/admin/resident/edit/?id={resident.id}",
        data={
            "name": "王改名",
            "grid": resident.grid.id,
            "residence_type": "floating",
            "phone": "",
            "id_number": "",
        },
    )
    assert response.status_code == 302

    page = client.get("/admin/auditlog/").get_data(as_text=True)
    records = " ".join(_cells(page, "model"))
    changes = " ".join(_cells(page, "changes"))
    assert f'href="/admin/event/details/?id={event_id}"' in records and "事件" in records
    assert f'href="/admin/wish/details/?id={wish_id}"' in records and "心愿" in records
    assert f'href="/admin/resident/details/?id={resident.id}"' in records and "居民" in records
    for english in ("Event", "Wish", "Resident", '"status"', "in_progress", "published", "accepted"):
        assert english not in records + changes, english
    assert {"接口", "网站", "后台"} <= set(_cells(page, "channel"))
    assert "变更内容" in page and "步骤: 已受理" in changes and "状态: 已上报 → 已受理" in changes

    event_page = audit_page(client, event_id, "Event")
    assert "状态" in event_page and "已受理" in event_page, event_page[-3000:]
    wish_page = audit_page(client, wish_id, "Wish")
    assert "待审核 → 已发布" in wish_page or "→ 已发布" in wish_page
    resident_page = audit_page(client, resident.id, "Resident")
    assert "→ 王改名" in resident_page and "流动人口" in resident_page

    export = client.get("/admin/auditlog/export/csv/").get_data(as_text=True).removeprefix("\ufeff")
    text = " ".join(c for row in csv.reader(io.StringIO(export)) for c in row)
    assert "→ 王改名" in text and "居民" in text and "in_progress" not in text


def test_a_reveal_names_the_fields_shown(login_as):
    client = login_as("admin")
    resident = db.session.scalar(select(Resident).where(Resident.phone.is_not(None)).order_by(Resident.id))
    assert client.post("/admin/resident/reveal/", data={"id": resident.id}).status_code == 200
    page = audit_page(client, resident.id, "Resident")
    changes = re.search(r'<ul class="list-unstyled mb-0 og-changes">(.*?)</ul>', page, re.DOTALL).group(1)
    assert "查看的字段: " in changes and "联系电话" in changes and "phone" not in changes


def test_steps_channels_and_figures_of_the_newer_records_read_in_chinese(app):
    """Work-log signatures, call-up steps and figures, a visit's channel: no English code left (the walk's find)."""
    from flask_babel import force_locale

    from admin.audit_display import field_label, value_label

    with app.test_request_context("/admin/auditlog/"), force_locale("zh_Hans_CN"):
        shown = [
            value_label("WorkLog", "step", "countersign"),
            value_label("WorkRecord", "step", "sign"),
            value_label("Callup", "step", "check_in"),
            value_label("ServiceItem", "step", "complete"),
            value_label("HouseholdVisit", "channel", "cli"),
            value_label("UnitActivity", "channel", "migrated"),
            field_label("Callup", "called"),
            field_label("Callup", "arrived_count"),
        ]
    assert not [text for text in shown if re.search(r"[A-Za-z]{3,}", text)], shown
