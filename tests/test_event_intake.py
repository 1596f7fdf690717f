"""Reporting events (docs/workflows.md#events) through the intake service: bad reports, assisted reports,
the matter's deadlines, the hotline's idempotent tickets, the demo's events."""

import threading

import pytest
from sqlalchemy import func, select
from support import app_settings, separate_database
from test_event_service import GRID, _count, _report, make_people

from app import create_app
from app.extensions import db
from app.models import Matter, User
from app.models.choices import EventLevel
from app.models.events import Event, EventStep
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.services import event_intake
from app.services import events as service
from app.services.demo.activity import seed_events
from app.services.events import EventInvalid

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def people(demo):
    return make_people()


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"matter_code": "NOPE-1"}, "matter"),
        ({"matter_code": "MZ-002"}, "matter"),  # on the list, but not admitted (准入)
        ({"grid_code": "610404001001"}, "grid_code"),  # a community, not a grid
        ({"grid_code": "610404999999999"}, "grid_code"),
        ({"grid_code": "610404002001001"}, "grid_code"),  # a grid outside the grid worker's scope
        ({"title": "   "}, "title"),
        ({"title": "长" * 101}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"location_text": "x" * 201}, "location_text"),
        ({"source": "rumour"}, "source"),
        ({"external_ref": "T-1"}, "external_ref"),  # ticket ids are the hotline's
        ({"title": "a\x00b"}, "title"),
    ],
)
def test_bad_reports_are_refused_with_the_field_named_and_nothing_written(people, values, field):
    fields = {"title": "t", "description": "d", "matter_code": "HW-001", "grid_code": GRID}
    fields.update(values)
    before = _count(Event), _count(EventStep)
    with pytest.raises(EventInvalid) as refused:
        service.report_event(people["grid"], **fields)
    assert field in refused.value.errors
    assert (_count(Event), _count(EventStep)) == before


def test_assisted_reports_record_who_they_are_for(people):
    from app.models import Resident

    p = people
    resident = db.session.scalar(select(Resident).where(Resident.grid_code == GRID))
    event = _report(p, acting_for=resident.id)
    assert event.acting_for == f"resident:{resident.id}" and event.reporter_id == p["grid"].id
    event = _report(p, acting_for="张大爷")
    assert event.acting_for == "张大爷"
    with pytest.raises(EventInvalid):
        service.report_event(p["resident"], title="t", description=None, matter_code="HW-001", acting_for="x")


def test_deadlines_come_from_the_matters_policy(people):
    from datetime import timedelta

    from app.models.base import aware, utcnow

    now = utcnow()
    urgent, _created = service.report_event(
        people["grid"], title="t", description=None, matter_code="AQ-001", grid_code=GRID, now=now
    )
    assert [aware(d) - now for d in (urgent.respond_by, urgent.reply_by, urgent.resolve_by)] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=4),
    ]
    matter = db.session.scalar(select(Matter).where(Matter.code == "HW-001"))
    matter.sla_policy_id = None
    plain, _created = service.report_event(
        people["grid"], title="t", description=None, matter_code="HW-001", grid_code=GRID, now=now
    )
    assert [aware(d) - now for d in (plain.respond_by, plain.reply_by, plain.resolve_by)] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=24),
    ]


# --- the hotline -----------------------------------------------------------------------------------
def test_the_hotline_repeating_a_ticket_gets_the_same_event_back(people):
    hotline = people["hotline"]
    fields = {
        "title": "噪声扰民",
        "description": "夜间施工",
        "matter_code": "HJ-001",
        "grid_code": GRID,
        "external_ref": "12345-2026-0001",
    }
    before = _count(Event), _count(EventStep)
    first, created = service.report_event(hotline, **fields)
    again, created_again = service.report_event(hotline, **fields)
    assert (created, created_again) == (True, False)
    assert again.id == first.id and first.source == "hotline" and first.external_ref == "12345-2026-0001"
    assert (_count(Event), _count(EventStep)) == (before[0] + 1, before[1] + 1)
    other, _created = service.report_event(hotline, **{**fields, "external_ref": "12345-2026-0002"})
    assert other.id != first.id


def test_closing_a_hotline_event_sends_the_closed_webhook(people):
    db.session.add(
        WebhookEndpoint(
            url="https://hotline.example/cb", secret="whsec_x", event_types=["event.closed"], active=True
        )
    )
    db.session.flush()
    p = people
    event, _created = service.report_event(
        p["hotline"], title="t", description=None, matter_code="HJ-001", grid_code=GRID, external_ref="T-9"
    )
    for step in (
        lambda: service.accept_event(p["grid"], event),
        lambda: service.start_event(p["grid"], event),
        lambda: service.resolve_event(p["grid"], event, "已处理"),
        lambda: service.verify_event(p["grid"], event, True),
    ):
        step()
    assert _count(WebhookDelivery) == 0  # only "event.closed" is subscribed
    service.callback_event(p["grid"], event, True)
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.topic == "event.closed"
    assert (
        delivery.payload["data"]["external_ref"] == "T-9" and delivery.payload["data"]["status"] == "closed"
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_five_concurrent_reports_with_one_ticket_make_one_event(kind, monkeypatch):
    from app.services.demo import seed_demo

    with separate_database(kind, "event_intake_race") as url:
        app = create_app(app_settings(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10}))
        with app.app_context():
            db.create_all()
            seed_demo()
            db.session.commit()
            hotline_id = db.session.scalar(select(User.id).where(User.username == "hotline"))
            db.session.remove()
        barrier = threading.Barrier(5)
        results, errors, inserts = [], [], []
        insert_once = event_intake._insert_once

        def counting_insert(actor, values):  # how many got past the look-up: the race the constraint decides
            inserts.append(1)
            return insert_once(actor, values)

        def call():
            with app.app_context():
                try:
                    hotline = db.session.get(User, hotline_id)
                    barrier.wait()
                    event, created = service.report_event(
                        hotline,
                        title="占道经营",
                        description=None,
                        matter_code="HW-002",
                        grid_code=GRID,
                        external_ref="12345-RACE",
                    )
                    db.session.commit()
                    results.append((event.id, created))
                except Exception as error:
                    errors.append(repr(error))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=call) for _ in range(5)]
        monkeypatch.setattr(event_intake, "_insert_once", counting_insert)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(inserts) > 1, "the reports did not overlap: no race was run"
        assert len(results) == 5 and len({event_id for event_id, _c in results}) == 1
        assert sorted(created for _id, created in results) == [False] * 4 + [True]
        with app.app_context():
            (event_id,) = {event_id for event_id, _c in results}
            assert (
                db.session.scalar(select(func.count()).select_from(Event).where(Event.source == "hotline"))
                == 1
            )
            assert (
                db.session.scalar(
                    select(func.count()).select_from(EventStep).where(EventStep.event_id == event_id)
                )
                == 1
            )
            db.session.remove()
            db.engine.dispose()


def test_the_demo_events_stand_at_different_stages_and_seed_once(people):
    seed_events()
    statuses = db.session.scalars(select(Event.status).order_by(Event.id)).all()
    assert statuses == ["reported", "accepted", "in_progress", "in_progress", "verified", "archived"]
    dispatched = db.session.scalar(select(Event).where(Event.level == EventLevel.DEPARTMENT))
    assert [d.department.code for d in dispatched.dispatches] == ["HW"]
    seed_events()
    assert _count(Event) == 6
