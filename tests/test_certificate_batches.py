"""Honour batches: certificates for the members of an area or unit with hours in a period, started once, run again."""

from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select
from test_certificates import (
    COMMUNITY,
    certificate_dir,  # noqa: F401  (an autouse fixture: each test's PDFs in a folder of its own)
    confirm_done_wish,
    new_member,
    pdf_text,
    user,
)

from app.extensions import db
from app.models import AuditLog, Member, Wish, WishCategory
from app.models.base import utcnow
from app.models.certificates import Certificate, HonourBatch
from app.services.certificate_batches import start_honour_batch
from app.services.certificate_pdf import (
    local_date,
)

pytestmark = pytest.mark.usefixtures("english")


def confirmed_wish_rows(member_ids: list[int], hours: Decimal, when) -> list[dict]:
    """Rows of confirmed wishes, one per member, for a bulk insert (no rendering: nothing is signalled)."""
    category_id = db.session.scalar(select(WishCategory.id).where(WishCategory.code == "life"))
    resident = user("resident")
    members = dict(
        db.session.execute(select(Member.id, Member.grid_code).where(Member.id.in_(member_ids))).all()
    )
    return [
        {
            "title": f"测试心愿{n}",
            "category_id": category_id,
            "grid_code": members[member_id],
            "owner_id": resident.id,
            "posted_by_id": resident.id,
            "status": "confirmed",
            "claimed_by_id": member_id,
            "hours": hours,
            "respond_by": when,
            "reply_by": when,
            "resolve_by": when,
            "created_at": when,
            "published_at": when,
            "claimed_at": when,
            "done_at": when,
            "confirmed_at": when,
            "updated_at": when,
        }
        for n, member_id in enumerate(member_ids)
    ]


# --- honour batches -------------------------------------------------------------------------------------------
def test_an_honour_batch_for_the_demo_community_reports_progress_and_a_second_run_adds_none(
    demo,
    login_as,
    certificate_dir,  # noqa: F811  (the fixture imported above)
):
    confirm_done_wish()  # 王建国: 1.5 h today, and 1.5 h for the demo's confirmed wish
    new_member("member_b", f"{COMMUNITY}002", "李红梅")
    outsider = new_member("member_d", "610404002001001", "孙立新")  # another street
    member_b = db.session.scalar(select(Member).where(Member.name == "李红梅"))
    member_d = db.session.scalar(select(Member).where(Member.user_id == outsider.id))
    now = utcnow()
    db.session.execute(
        insert(Wish), confirmed_wish_rows([member_b.id, member_b.id, member_d.id], Decimal("2.5"), now)
    )
    db.session.commit()
    community = login_as("community")
    today = local_date(now)
    form = {
        "scope": f"area:{COMMUNITY}",
        "period_start": f"{today.year}-01-01",
        "period_end": today.isoformat(),
    }

    assert community.get("/admin/honourbatch/new/").status_code == 200
    started = community.post("/admin/honourbatch/new/", data=form)
    assert started.status_code in (302, 303)
    batch = db.session.scalar(select(HonourBatch))
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.batch_id == batch.id).order_by(Certificate.holder_name)
    ).all()
    assert sorted((c.holder_name, c.hours, c.status) for c in certificates) == [
        ("李红梅", Decimal("5.0"), "ready"),
        ("王建国", Decimal("3.0"), "ready"),
    ]  # 王建国: the demo's wish too
    assert community.get(f"/admin/honourbatch/progress/?id={batch.id}").get_json() == {
        "id": batch.id,
        "done": 2,
        "total": 2,
        "finished": True,
    }
    details = community.get(f"/admin/honourbatch/details/?id={batch.id}").get_data(as_text=True)
    assert 'data-progress="done">2<' in details and 'data-progress="total">2<' in details
    text = pdf_text(certificate_dir / certificates[0].pdf_path)
    assert "荣誉证书" in text and certificates[0].holder_name in text and "5小时" in text

    again = community.post("/admin/honourbatch/new/", data=form, follow_redirects=True)
    assert "Nothing to add" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HonourBatch)) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.batch_id == batch.id)
        )
        == 2
    )
    audits = db.session.scalars(select(AuditLog.action).where(AuditLog.model == "HonourBatch")).all()
    assert audits == ["create", "update"]


def test_an_honour_batch_outside_the_users_area_or_with_a_bad_period_is_refused(demo, login_as):
    community = login_as("community")
    year = local_date(utcnow()).year
    for form, message in [
        (
            {"scope": "area:610404", "period_start": f"{year}-01-01", "period_end": f"{year}-02-01"},
            "Choose a unit",
        ),
        (
            {"scope": "area:610404002001", "period_start": f"{year}-01-01", "period_end": f"{year}-02-01"},
            "Choose a unit",
        ),
        (
            {"scope": f"area:{COMMUNITY}", "period_start": f"{year}-03-01", "period_end": f"{year}-02-01"},
            "ends before",
        ),
        (
            {"scope": f"area:{COMMUNITY}", "period_start": "yesterday", "period_end": f"{year}-02-01"},
            "YYYY-MM-DD",
        ),
        (
            {
                "scope": f"area:{COMMUNITY}",
                "period_start": f"{year}-01-01",
                "period_end": f"{year + 1}-12-31",
            },
            "must have ended",
        ),
    ]:
        answer = community.post("/admin/honourbatch/new/", data=form)
        assert answer.status_code == 200 and message in answer.get_data(as_text=True), form
    assert db.session.scalar(select(func.count()).select_from(HonourBatch)) == 0
    assert login_as("grid").get("/admin/honourbatch/new/").status_code == 403


def test_a_unit_batch_covers_the_units_members_only(demo):
    first = db.session.scalar(
        select(Member)
        .where(Member.grid_code.startswith(COMMUNITY), Member.unit_id.is_not(None))
        .order_by(Member.id)
    )
    other = db.session.scalar(
        select(Member).where(
            Member.grid_code.startswith(COMMUNITY),
            Member.unit_id.is_not(None),
            Member.unit_id != first.unit_id,
        )
    )
    db.session.execute(insert(Wish), confirmed_wish_rows([first.id, other.id], Decimal(3), utcnow()))
    db.session.commit()
    today = local_date(utcnow())

    batch, added = start_honour_batch(user("community"), f"unit:{first.unit_id}", today.replace(day=1), today)
    db.session.commit()

    assert added == 1 and (batch.unit_id, batch.area_code) == (first.unit_id, first.unit.community_code)
    holders = db.session.scalars(select(Certificate.member_id).where(Certificate.batch_id == batch.id)).all()
    assert holders == [first.id]
