"""The notification core: send (set-based, preferences, de-dup, each recipient's language), tell (after the commit,
or at once for the builders marked so), reading, pruning."""

from datetime import timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import Notification, OutboxMessage, User, WishCategory
from app.models.base import utcnow
from app.models.choices import URGENT, NotificationKind
from app.services import notification_preferences, notifications
from app.services.errors import Invalid, NotFound


@pytest.fixture
def people(demo):
    db.session.execute(delete(Notification))  # the demo's call-up has notified its members: start empty
    # the jobs of the demo's own notices (its open call-up's): these tests count theirs
    db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.kind == "notify"))
    db.session.commit()
    return {u.username: u for u in db.session.scalars(select(User))}


def rows_of(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


# --- sending -------------------------------------------------------------------------------------------
def test_send_to_a_select_writes_one_row_per_active_user_once(people):
    member, resident, grid = people["member"], people["resident"], people["grid"]
    grid.active = False
    db.session.commit()
    # a union repeats the member: still one row each
    recipients = (
        select(User.id)
        .where(User.id.in_([member.id, resident.id, grid.id]))
        .union_all(select(User.id).where(User.id == member.id))
    )
    written = notifications.send(
        NotificationKind.NEW_WISH, recipients, title="新心愿：修水龙头", body="厨房漏水", link="/wishes/1"
    )
    db.session.commit()
    assert written == 2 == count()
    (row,) = rows_of(member)
    assert (row.kind, row.title, row.body, row.link, row.urgent, row.read_at) == (
        "new_wish",
        "新心愿：修水龙头",
        "厨房漏水",
        "/wishes/1",
        False,
        None,
    )
    assert rows_of(grid) == []


def test_send_to_a_list_of_ids_dedups_and_skips_unknown_ids(people):
    member = people["member"]
    written = notifications.send(
        "callup", [member.id, member.id, 999999], title="紧急集结", subject="callup:1"
    )
    db.session.commit()
    assert written == 1
    (row,) = rows_of(member)
    assert row.urgent is True and row.subject == "callup:1"
    assert notifications.send("callup", [], title="nobody") == 0


def test_muted_kinds_and_categories_are_skipped_but_urgent_kinds_never(people):
    member, captain = people["member"], people["captain"]
    category = db.session.scalars(select(WishCategory).order_by(WishCategory.id)).first()
    other = db.session.scalars(select(WishCategory).where(WishCategory.id != category.id)).first()
    notification_preferences.save_preferences(
        member, muted_kinds=["visits_due"], muted_categories=[category.id]
    )
    db.session.commit()
    both = [member.id, captain.id]
    assert notifications.send("visits_due", both, title="走访将到期") == 1
    assert notifications.send("new_wish", both, title="新心愿", category_id=category.id) == 1
    assert notifications.send("new_wish", both, title="新心愿", category_id=other.id) == 2
    assert notifications.send("new_wish", both, title="新心愿") == 2  # no category: not filtered by it
    assert notifications.send("callup", both, title="紧急集结") == 2
    db.session.commit()
    assert sorted(r.kind for r in rows_of(member)) == ["callup", "new_wish", "new_wish"]
    # a stored mute of an urgent kind (written around the service) is still ignored
    db.session.execute(
        update(notifications.NotificationPreference).values(muted_kinds=["callup", "callup_lead"])
    )
    assert notifications.send("callup_lead", both, title="请带队") == 2


def test_a_muted_kind_that_is_a_prefix_of_another_does_not_mute_it(people):
    member = people["member"]
    notification_preferences.save_preferences(member, muted_kinds=["callback_due"])
    db.session.commit()
    assert notifications.send("review_queue", [member.id], title="待审核") == 1
    assert notifications.send("callback_due", [member.id], title="回访") == 0


def test_words_in_each_language_reach_each_recipient_in_theirs(people, app):
    member, resident, grid = people["member"], people["resident"], people["grid"]
    member.locale, resident.locale, grid.locale = (
        "en",
        None,
        "fr",
    )  # fr: a language the interface does not speak
    db.session.commit()

    def words():
        return _("Your wish “%(title)s” is on the board", title="修水龙头"), _(
            "Reason: %(reason)s", reason="漏水"
        )

    with app.test_request_context(
        headers={"Accept-Language": "en"}
    ):  # the sender's own language plays no part
        titles, bodies = notifications.in_each_language(words)
        written = notifications.send(
            NotificationKind.WISH_PUBLISHED,
            select(User.id).where(User.id.in_([member.id, resident.id, grid.id])),
            title=titles,
            body=bodies,
        )
    db.session.commit()
    assert written == 3
    assert set(titles) == {app.config["BABEL_DEFAULT_LOCALE"], *app.config["LANGUAGES"]}
    assert [(r.title, r.body) for r in rows_of(member)] == [
        ("Your wish “修水龙头” is on the board", "Reason: 漏水")
    ]
    district = (titles["zh_Hans_CN"], bodies["zh_Hans_CN"])
    assert district == ("您的心愿“修水龙头”已发布", "原因：漏水")
    assert [(r.title, r.body) for r in rows_of(resident)] == [district]  # chose none: the district's
    assert [(r.title, r.body) for r in rows_of(grid)] == [district]  # chose one the interface does not speak


# --- tell: after the commit (or at once), never after a rollback -------------------------------------
def test_tell_runs_the_builder_after_the_commit_and_a_rollback_sends_nothing(people, monkeypatch):
    member = people["member"]
    member_id, calls = member.id, []

    def build(wish_id):
        calls.append(wish_id)
        return notifications.send("wish_published", [member_id], title=f"心愿 {wish_id} 已发布")

    monkeypatch.setitem(notifications.BUILDERS, NotificationKind.WISH_PUBLISHED, build)

    notify_jobs = select(OutboxMessage).where(OutboxMessage.kind == "notify")
    before = set(db.session.scalars(notify_jobs))  # the demo's own
    notifications.tell("wish_published", wish_id=7)
    assert calls == []  # nothing before the commit
    db.session.rollback()
    assert calls == [] and count() == 0
    assert set(db.session.scalars(notify_jobs)) == before

    notifications.tell("wish_published", wish_id=8)
    assert calls == []
    db.session.commit()
    assert calls == [8]
    assert [r.title for r in rows_of(member)] == ["心愿 8 已发布"]
    (message,) = set(db.session.scalars(notify_jobs)) - before
    assert (message.kind, message.status) == ("notify", "done")


def test_tell_refuses_an_unknown_kind(people):
    with pytest.raises(ValueError):
        notifications.tell("no_such_kind", wish_id=1)


def test_one_builder_per_kind(monkeypatch):
    monkeypatch.setattr(notifications, "BUILDERS", {})

    @notifications.builder("visits_due")
    def first(**_payload):
        return 0

    with pytest.raises(RuntimeError):

        @notifications.builder("visits_due")
        def second(**_payload):
            return 0

    assert notifications.build("visits_due", {}) == 0
    with pytest.raises(LookupError):
        notifications.build("wish_done", {})


# --- reading ---------------------------------------------------------------------------------------------
def test_unread_count_inbox_pages_and_marking_read(people):
    member, resident = people["member"], people["resident"]
    for number in range(1, 26):
        notifications.send("new_wish", [member.id, resident.id], title=f"第{number}条")
    db.session.commit()
    assert notifications.unread_count(member) == 25
    first = notifications.inbox(member, page=1, per_page=10)
    assert [n.title for n in first["items"]][:2] == ["第25条", "第24条"] and first["has_next"]
    last = notifications.inbox(member, page=3, per_page=10)
    assert len(last["items"]) == 5 and not last["has_next"]

    newest = first["items"][0]
    read = notifications.mark_read(member, newest.id)
    db.session.commit()
    stamp = read.read_at
    assert stamp is not None and notifications.unread_count(member) == 24
    assert notifications.mark_read(member, str(newest.id)).read_at == stamp  # twice: the first time stays
    unread = notifications.inbox(member, unread_only=True, per_page=100)["items"]
    assert len(unread) == 24 and newest.id not in {n.id for n in unread}

    theirs = notifications.inbox(resident, per_page=1)["items"][0]
    for hostile in (theirs.id, 0, -1, "abc", None, 10**12):
        with pytest.raises(NotFound):
            notifications.mark_read(member, hostile)
    assert notifications.mark_all_read(member) == 24
    db.session.commit()
    assert notifications.unread_count(member) == 0
    assert notifications.unread_count(resident) == 25  # someone else's stay unread


def test_prune_deletes_only_old_read_notifications(app, people):
    member = people["member"]
    notifications.send("new_wish", [member.id], title="旧的已读")
    notifications.send("new_wish", [member.id], title="新的已读")
    notifications.send("new_wish", [member.id], title="旧的未读")
    db.session.commit()
    old, recent, unread = sorted(rows_of(member), key=lambda n: n.id)
    days = app.config["NOTIFICATION_RETENTION_DAYS"]
    long_ago = utcnow() - timedelta(days=days + 1)
    old.read_at, old.created_at = long_ago, long_ago
    recent.read_at = utcnow() - timedelta(days=days - 1)
    unread.created_at = long_ago
    db.session.commit()
    from app.jobs.scheduler import run_periodic

    member_id = member.id
    run_periodic("prune_notifications")
    left = db.session.scalars(select(Notification.title).where(Notification.user_id == member_id))
    assert sorted(left) == ["新的已读", "旧的未读"]


# --- preferences -----------------------------------------------------------------------------------------
def test_preferences_default_save_and_refuse_wrong_values(people):
    member = people["member"]
    default = notification_preferences.preferences(member)
    assert (default.muted_kinds, default.muted_categories, default.quiet_start) == ([], [], None)
    category = db.session.scalars(select(WishCategory)).first()
    saved = notification_preferences.save_preferences(
        member,
        muted_kinds=["new_wish", "visits_due", "new_wish"],
        muted_categories=[str(category.id)],
        quiet_start="22:00",
        quiet_end="07:00",
    )
    db.session.commit()
    assert notification_preferences.preferences(member) is saved
    assert (saved.muted_kinds, saved.muted_categories) == (["new_wish", "visits_due"], [category.id])
    for wrong in (
        {"muted_kinds": ["callup"]},
        {"muted_kinds": ["nonsense"]},
        {"muted_categories": ["x"]},
        {"muted_categories": [999999]},
        {"quiet_start": "25:00", "quiet_end": "07:00"},
        {"quiet_start": "22:00"},
        {"quiet_start": "07:00", "quiet_end": "07:00"},
    ):
        with pytest.raises(Invalid):
            notification_preferences.save_preferences(member, **wrong)
    assert set(notification_preferences.mutable_kinds()) | URGENT == set(NotificationKind)


def test_a_district_language_outside_the_choices_still_reaches_those_who_chose_none(people, app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "zh_CN")  # a deployment's DEFAULT_LOCALE
    member, resident = people["member"], people["resident"]
    member.locale, resident.locale = "zh_Hans_CN", None
    db.session.commit()
    titles, bodies = notifications.in_each_language(lambda: (f"{_('Reason: %(reason)s', reason='x')}", "b"))
    assert set(titles) == {"zh_CN", "zh_Hans_CN", "en"}
    titles = {"zh_CN": "district", "zh_Hans_CN": "chosen", "en": "english"}
    assert notifications.send("wish_published", [member.id, resident.id], title=titles, body=bodies) == 2
    db.session.commit()
    assert [r.title for r in rows_of(member)] == ["chosen"]
    assert [r.title for r in rows_of(resident)] == ["district"]
