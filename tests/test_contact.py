"""Contact with privacy (issue 15 §2): phones only in the claimed window, every display an audit row with its
reason, staff's one-click call, the display switch and the masking hook."""

import pytest
from sqlalchemy import func, select
from test_api_wishes import Caller

from app.extensions import db
from app.models import AuditLog, Member, Resident, User, Wish
from app.models.choices import WishStatus
from app.services import contact, events, wishes
from app.services.errors import Forbidden

pytestmark = pytest.mark.usefixtures("english")

OWNER_PHONE = "13900001111"
WORKER_PHONE = "02912345678"
MEMBER_PHONE = "13700002222"


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def member() -> Member:
    return db.session.scalar(select(Member).where(Member.user_id == user("member").id))


def phones_ready():
    """The demo resident's census phone, the grid worker's work phone and the member's work phone, known."""
    resident = db.session.scalar(select(Resident).where(Resident.user_id == user("resident").id))
    resident.phone = OWNER_PHONE
    worker = contact.grid_worker_of(user("resident").area_code)
    assert worker is not None, "the demo grid has a grid worker in its team"
    worker.phone = WORKER_PHONE
    member().phone = MEMBER_PHONE
    db.session.commit()


def published_wish() -> Wish:
    wish = wishes.post_wish(user("resident"), title="帮忙买药", description=None, category_code="elderly")
    wishes.publish_wish(user("grid"), wish)
    db.session.commit()
    return wish


def reveals(reason: str | None = None) -> list[AuditLog]:
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "reveal").order_by(AuditLog.id)).all()
    return [r for r in rows if reason is None or (r.after or {}).get("reason") == reason]


@pytest.fixture
def api(client, demo):
    phones_ready()
    return lambda username: Caller(client, username)


def test_the_claimer_sees_phones_only_while_the_claim_lasts_each_display_audited(api):
    wish = published_wish()
    claimer = api("member")
    assert claimer.get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"] == []  # before the claim
    assert claimer.post(f"/api/v1/wishes/{wish.id}/claim").status_code == 200
    assert reveals() == []  # the claim's answer carries no phones: GET the wish for them
    body = claimer.get(f"/api/v1/wishes/{wish.id}").get_json()
    phones = {c["role"]: c["phone"] for c in body["contacts"]}
    assert phones == {"owner": OWNER_PHONE, "grid_worker": WORKER_PHONE}
    rows = reveals(f"claimed wish #{wish.id}")
    assert len(rows) == 2  # one per phone per display
    assert {(r.model, r.user_id) for r in rows} == {
        ("Resident", user("member").id),
        ("TeamPerson", user("member").id),
    }
    # the owner sees the member's given name, unit and work phone
    owner = api("resident").get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"]
    assert [(c["role"], c["name"], c["phone"]) for c in owner] == [("claimer", "建国", MEMBER_PHONE)]
    # the wish done and confirmed: the window has closed
    db.session.expire_all()
    wishes.complete_wish(user("member"), db.session.get(Wish, wish.id), "买好了", "1")
    wishes.confirm_wish(user("resident"), db.session.get(Wish, wish.id), "good")
    db.session.commit()
    before = len(reveals())
    assert claimer.get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"] == []
    assert api("resident").get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"] == []
    assert len(reveals()) == before


def test_a_released_claim_shows_no_phone_and_others_never_see_one(api):
    wish = published_wish()
    wishes.claim_wish(user("member"), wish)
    db.session.commit()
    assert api("grid").get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"] == []
    db.session.expire_all()
    wishes.release_wish(user("member"), db.session.get(Wish, wish.id), "临时出差")
    db.session.commit()
    assert api("member").get(f"/api/v1/wishes/{wish.id}").get_json()["contacts"] == []


def test_the_wish_page_has_call_and_sms_links_for_the_claimer(api, login_as):
    wish = published_wish()
    wishes.claim_wish(user("member"), wish)
    db.session.commit()
    page = login_as("member").get(f"/wishes/{wish.id}")
    text = page.get_data(as_text=True)
    assert f'href="tel:{OWNER_PHONE}"' in text and f'href="sms:{OWNER_PHONE}"' in text
    assert f'href="tel:{WORKER_PHONE}"' in text
    assert "no-store" in page.headers.get("Cache-Control", "")
    assert len(reveals(f"claimed wish #{wish.id}")) == 2


def test_display_off_shows_names_and_the_hint_only(api, app, login_as):
    wish = published_wish()
    wishes.claim_wish(user("member"), wish)
    db.session.commit()
    app.config["CONTACT_PHONE_DISPLAY"] = False
    try:
        body = api("member").get(f"/api/v1/wishes/{wish.id}").get_json()
        assert [c["phone"] for c in body["contacts"]] == [None, None]
        text = login_as("member").get(f"/wishes/{wish.id}").get_data(as_text=True)
        assert "tel:" not in text and "through the grid worker" in text and OWNER_PHONE not in text
        assert reveals() == []
    finally:
        app.config["CONTACT_PHONE_DISPLAY"] = True


def virtual_number(phone, *, viewer, subject, purpose):
    """A stand-in for a district's number-masking service: a virtual number per real one."""
    virtual_number.calls.append((phone, viewer.username, subject.id, purpose))
    return "95013" + phone[-4:]


virtual_number.calls = []


def test_the_masking_hook_gives_the_number_to_dial(api, app):
    wish = published_wish()
    wishes.claim_wish(user("member"), wish)
    db.session.commit()
    app.config["CONTACT_PHONE_MASKER"] = "test_contact:virtual_number"
    try:
        body = api("member").get(f"/api/v1/wishes/{wish.id}").get_json()
    finally:
        app.config["CONTACT_PHONE_MASKER"] = None
    assert {c["phone"] for c in body["contacts"]} == {"950131111", "950135678"}
    assert (OWNER_PHONE, "member", wish.id, f"claimed wish #{wish.id}") in virtual_number.calls


def test_staff_reveal_the_reporter_with_an_audit_row_and_only_in_scope(api):
    event, _created = events.report_event(
        user("resident"),
        title="井盖松动",
        description="井盖松动",
        matter_code="HW-001",
        location_text="3号楼前",
    )
    db.session.commit()
    shown = contact.reveal_reporter(user("grid"), event)
    db.session.commit()
    assert shown.phone == OWNER_PHONE
    (row,) = reveals(f"handling event #{event.id}")
    assert (row.model, row.user_id, row.after["fields"]) == ("Resident", user("grid").id, ["phone"])
    with pytest.raises(Forbidden):
        contact.reveal_reporter(user("grid2"), event)
    with pytest.raises(Forbidden):
        contact.reveal_reporter(user("member"), event)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "reveal")) == 1
    )
    assert db.session.get(Wish, published_wish().id).status == WishStatus.PUBLISHED


def test_the_back_office_calls_the_reporter_from_the_queue_and_the_event_page(api, login_as):
    event, _created = events.report_event(
        user("resident"),
        title="路灯不亮",
        description="路灯不亮",
        matter_code="HW-001",
        location_text="5号楼",
    )
    db.session.commit()
    client = login_as("grid")
    queue = client.get("/admin/event_queue/").get_data(as_text=True)
    assert f'data-call-reporter="{event.id}"' in queue
    page = client.get(f"/admin/event/details/?id={event.id}").get_data(as_text=True)
    assert f'data-call-reporter="{event.id}"' in page
    response = client.post("/admin/event/call/", data={"id": event.id})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and f'href="tel:{OWNER_PHONE}"' in text
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert len(reveals(f"handling event #{event.id}")) == 1
    # another grid's worker: not their event
    assert login_as("grid2").post("/admin/event/call/", data={"id": event.id}).status_code == 404
    assert len(reveals()) == 1


def test_the_wish_review_calls_the_resident_and_shows_released_claims(api, login_as):
    wish = published_wish()
    client = login_as("grid")
    response = client.post("/admin/wish/call/", data={"id": wish.id})
    assert f'href="tel:{OWNER_PHONE}"' in response.get_data(as_text=True)
    assert len(reveals(f"reviewing wish #{wish.id}")) == 1
    wishes.claim_wish(user("member"), wish)
    wishes.release_wish(user("member"), wish, "临时出差")
    db.session.commit()
    page = client.get(f"/admin/wish/details/?id={wish.id}").get_data(as_text=True)
    assert "released 1 claims in 30 days" in page
    member_page = client.get(f"/admin/member/details/?id={member().id}").get_data(as_text=True)
    assert "released 1 claims in 30 days" in member_page and MEMBER_PHONE not in member_page


def test_a_member_sets_the_work_phone_the_owner_sees(api, login_as):
    client = login_as("member")
    assert 'name="phone"' in client.get("/account").get_data(as_text=True)
    assert client.post("/account/work-phone", data={"phone": "not a phone"}).status_code == 303
    assert member().phone == MEMBER_PHONE  # refused, nothing changed
    assert client.post("/account/work-phone", data={"phone": "13811112222"}).status_code == 303
    db.session.expire_all()
    assert member().phone == "13811112222"
    row = db.session.scalar(select(AuditLog).where(AuditLog.model == "Member", AuditLog.action == "update"))
    assert row.after == {"phone": "138****2222"}
    refused = login_as("resident").post(
        "/account/work-phone", data={"phone": "13911112222"}, follow_redirects=True
    )
    assert "Only checked-in members have a work phone here." in refused.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "update")) == 1
    )
