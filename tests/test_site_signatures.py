"""双签字 from a phone: the demo's captain and leader find the log awaiting them on /my/signatures and sign it."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.worklogs import SignStatus, WorkLog

pytestmark = pytest.mark.usefixtures("english")


def awaiting_log() -> WorkLog:
    return db.session.scalar(select(WorkLog).where(WorkLog.status == SignStatus.AWAITING))


def test_the_captain_and_the_leader_sign_the_demo_log_from_their_page(login_as):
    log = awaiting_log()
    captain = login_as("captain")
    page = captain.get("/my/signatures").get_data(as_text=True)
    assert f'data-to-sign="log-{log.id}"' in page
    signed = captain.post(f"/my/signatures/log/{log.id}")
    assert signed.status_code == 303
    page = captain.get("/my/signatures").get_data(as_text=True)
    assert f'data-to-sign="log-{log.id}"' not in page  # signed: nothing more for the captain
    leader = login_as("leader")
    page = leader.get("/my/signatures").get_data(as_text=True)
    assert f'data-to-sign="log-{log.id}"' in page and "Signed by" in page
    leader.post(f"/my/signatures/log/{log.id}")
    db.session.expire_all()
    assert db.session.get(WorkLog, log.id).status == SignStatus.SIGNED


def test_others_have_no_signatures_page_and_cannot_sign(login_as):
    log = awaiting_log()
    resident = login_as("resident")
    assert resident.get("/my/signatures").status_code == 403
    refused = login_as("member").post(f"/my/signatures/log/{log.id}")
    assert refused.status_code in (400, 404)
    db.session.expire_all()
    assert db.session.get(WorkLog, log.id).captain_signer_id is None
