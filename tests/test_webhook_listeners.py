"""Which endpoints listen, as a process keeps it (app/services/webhook_listeners.py): a step asks no query when
nobody does, a change made through the process counts at once, one made elsewhere within
WEBHOOK_ENDPOINTS_CACHE_SECONDS, and an endpoint disabled or deleted elsewhere meanwhile gets nothing."""

import pytest
from sqlalchemy import delete, event, func, insert, select, update

from app.extensions import db
from app.models import User, Wish
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.services import notification_gateway, webhook_listeners, webhooks, wishes
from app.services.webhooks import new_secret

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def people(demo):
    return {u.username: u for u in db.session.scalars(select(User))}


@pytest.fixture
def clock(app, monkeypatch):
    """The process trusts its copy for 5 s (the default) on a monotonic clock the test moves; the copy read
    before the clock was replaced is forgotten."""
    monkeypatch.setitem(app.config, "WEBHOOK_ENDPOINTS_CACHE_SECONDS", 5)
    now = [1000.0]
    monkeypatch.setattr(webhook_listeners.time, "monotonic", lambda: now[0])
    webhook_listeners.forget()
    return now


def queries_of_endpoints():
    """A list that fills with each SELECT of the endpoint table sent meanwhile."""
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM webhook_endpoint" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", count)


def elsewhere_add(event_types=("wish.published",), gateway=False) -> int:
    """An endpoint written by another process: past this process's ORM, so it hears nothing of it."""
    endpoint_id = db.session.execute(
        insert(WebhookEndpoint)
        .values(
            url="https://hooks.example.org/in",
            secret=new_secret(),
            event_types=list(event_types),
            active=True,
            gateway=gateway,
        )
        .returning(WebhookEndpoint.id)
    ).scalar_one()
    db.session.commit()
    return endpoint_id


def publish(people, title: str) -> Wish:
    wish = wishes.post_wish(people["resident"], title=title, description="楼道灯坏了", category_code="life")
    wishes.publish_wish(people["grid"], wish)
    db.session.commit()
    return wish


def deliveries(endpoint_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    )


def test_a_step_asks_nothing_when_the_process_knows_nobody_listens(people, clock):
    publish(people, "第一个心愿")  # the process reads the endpoints once: none
    seen, stop = queries_of_endpoints()
    try:
        publish(people, "第二个心愿")
        clock[0] += 4
        publish(people, "第三个心愿")
    finally:
        stop()
    assert seen == []
    clock[0] += 2  # past the 5 s: read again, once
    seen, stop = queries_of_endpoints()
    try:
        publish(people, "第四个心愿")
        publish(people, "第五个心愿")
    finally:
        stop()
    assert len(seen) == 1


def test_an_endpoint_added_through_this_process_hears_the_next_step_at_once(people, clock):
    publish(people, "之前的心愿")
    endpoint = WebhookEndpoint(
        url="https://hooks.example.org/in", secret=new_secret(), event_types=["wish.published"]
    )
    db.session.add(endpoint)
    db.session.commit()
    publish(people, "之后的心愿")
    assert deliveries(endpoint.id) == 1


def test_one_added_elsewhere_hears_steps_once_the_copy_is_older_than_the_seconds(people, clock):
    publish(people, "之前的心愿")
    endpoint_id = elsewhere_add()
    publish(people, "五秒之内")
    assert deliveries(endpoint_id) == 0
    clock[0] += 5
    publish(people, "五秒之后")
    assert deliveries(endpoint_id) == 1


def test_with_0_seconds_every_step_reads_them(people, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ENDPOINTS_CACHE_SECONDS", 0)
    publish(people, "之前的心愿")
    endpoint_id = elsewhere_add()
    publish(people, "立刻听到")
    assert deliveries(endpoint_id) == 1


@pytest.mark.parametrize("how", ["disabled", "deleted", "unsubscribed"])
def test_one_changed_elsewhere_meanwhile_gets_nothing_and_the_step_goes_through(people, clock, how):
    endpoint = WebhookEndpoint(
        url="https://hooks.example.org/in", secret=new_secret(), event_types=["wish.*"]
    )
    db.session.add(endpoint)
    db.session.commit()
    endpoint_id = endpoint.id
    assert webhooks.listening("wish.published") == [endpoint_id]  # the process's copy has it
    changed = WebhookEndpoint.__table__
    if how == "disabled":
        db.session.execute(update(changed).where(changed.c.id == endpoint_id).values(active=False))
    elif how == "deleted":
        db.session.execute(delete(changed).where(changed.c.id == endpoint_id))
    else:
        db.session.execute(update(changed).where(changed.c.id == endpoint_id).values(event_types=["event.*"]))
    db.session.commit()
    assert webhooks.listening("wish.published") == [endpoint_id]  # still, for a few seconds

    wish = publish(people, "照常发布")

    assert db.session.get(Wish, wish.id).status == "published"
    assert deliveries(endpoint_id) == 0


def test_the_gateway_is_read_again_before_a_notice_goes_to_it(people, clock):
    assert notification_gateway.gateway_endpoints() == []
    gateway_id = elsewhere_add(event_types=(), gateway=True)
    assert notification_gateway.gateway_endpoints() == []  # the copy says none, for a few seconds
    clock[0] += 5
    assert notification_gateway.gateway_endpoints() == [gateway_id]
    db.session.execute(
        update(WebhookEndpoint.__table__).where(WebhookEndpoint.id == gateway_id).values(active=False)
    )
    db.session.commit()
    # the copy still names a gateway, so it is read again exactly: disabled, it gets nothing
    assert notification_gateway.gateway_endpoints() == []
