"""The micro-wish state machine, through its service functions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Member, Resident, User, Wish, WishStep
from app.models.base import utcnow
from app.models.choices import WishAction, WishStatus
from app.services import wishes
from app.services.users import create_user
from app.services.wishes import TRANSITIONS, WishConflict, WishForbidden, WishInvalid


@pytest.fixture
def people(demo):
    users = {u.username: u for u in db.session.scalars(select(User))}
    return users


def _post(people, **values):
    fields = {"title": "帮忙买菜", "description": "腿脚不便", "category_code": "life"}
    fields.update(values)
    return wishes.post_wish(people["resident"], **fields)


# the happy path to each status
PATHS = {
    WishStatus.SUBMITTED: [],
    WishStatus.PUBLISHED: ["publish"],
    WishStatus.REJECTED: ["reject"],
    WishStatus.CANCELLED: ["cancel"],
    WishStatus.CLAIMED: ["publish", "claim"],
    WishStatus.DONE: ["publish", "claim", "complete"],
    WishStatus.CONFIRMED: ["publish", "claim", "complete", "confirm"],
}


def _at(people, status: WishStatus) -> Wish:
    """A fresh wish of the resident, taken along the happy path to `status`."""
    wish = _post(people)
    for action in PATHS[status]:
        _act(people, wish, action)
    assert wish.status == status
    return wish


ACTOR = {
    "publish": "grid",
    "reject": "grid",
    "cancel": "resident",
    "claim": "member",
    "release": "member",
    "complete": "member",
    "confirm": "resident",
    "dispute": "resident",
    "reopen": "grid",
    "resubmit": "resident",
}
VALUES = {
    "release": {"reason": "临时出差"},
    "reject": {"reason": "不属于微心愿"},
    "complete": {"note": "已完成", "hours": "2"},
    "confirm": {"rating": "good"},
    "dispute": {"reason": "灯还是不亮"},
    "reopen": {"reason": "回访不满意"},
}


def _act(people, wish, action):
    return wishes.perform(people[ACTOR[action]], wish, action, **VALUES.get(action, {}))


def _hours(people) -> Decimal:
    return db.session.scalar(select(Member.service_hours).where(Member.user_id == people["member"].id))


def test_a_wish_travels_from_posting_to_confirmation_and_credits_the_hours_once(people):
    before = _hours(people)
    wish = _at(people, WishStatus.CONFIRMED)
    assert wish.rating == "good" and wish.hours == Decimal("2.0") and wish.confirmed_at is not None
    assert _hours(people) == before + 2
    actions = [s.action for s in wish.steps]
    assert actions == ["post", "publish", "claim", "complete", "confirm"]
    assert [s.to_status for s in wish.steps][-1] == "confirmed"
    with pytest.raises(WishConflict):
        wishes.confirm_wish(people["resident"], wish, "good")
    assert _hours(people) == before + 2


ILLEGAL = [
    (action, status)
    for action, t in TRANSITIONS.items()
    if action != WishAction.AUTO_CONFIRM
    for status in WishStatus
    if status not in t.sources
]


@pytest.mark.parametrize("action, status", ILLEGAL)
def test_every_action_from_a_state_it_does_not_leave_is_refused(people, action, status):
    wish = _at(people, status)
    db.session.commit()
    steps = len(wish.steps)
    with pytest.raises(WishConflict):
        _act(people, wish, action)
    db.session.rollback()
    wish = db.session.get(Wish, wish.id)
    assert wish.status == status and len(wish.steps) == steps


def test_a_dispute_sends_the_wish_back_to_its_member_and_only_the_second_hours_count(people):
    before = _hours(people)
    wish = _at(people, WishStatus.DONE)
    wishes.dispute_wish(people["resident"], wish, "灯还是不亮")
    assert wish.status == WishStatus.CLAIMED and wish.done_at is None
    assert wish.claimed_by.user_id == people["member"].id
    wishes.complete_wish(people["member"], wish, "换了灯泡", "1.5")
    wishes.confirm_wish(people["resident"], wish, "average", "有点慢")
    assert _hours(people) == before + Decimal("1.5")


def test_release_puts_the_wish_back_on_the_board(people):
    wish = _at(people, WishStatus.CLAIMED)
    wishes.release_wish(people["member"], wish, "临时出差")
    assert wish.status == WishStatus.PUBLISHED and wish.claimed_by_id is None


def test_done_wishes_are_confirmed_automatically_after_72_hours_once(people):
    before = _hours(people)
    stale, fresh = _at(people, WishStatus.DONE), _at(people, WishStatus.DONE)
    stale.done_at = utcnow() - timedelta(hours=73)
    db.session.flush()
    assert wishes.auto_confirm_stale_wishes() == [stale.id]
    assert wishes.auto_confirm_stale_wishes() == []
    db.session.refresh(stale)
    db.session.refresh(fresh)
    assert stale.status == WishStatus.CONFIRMED and stale.rating is None
    assert stale.steps[-1].action == "auto_confirm" and stale.steps[-1].actor_id is None
    assert fresh.status == WishStatus.DONE
    assert _hours(people) == before + 2


def test_wrong_actors_are_refused(people):
    wish = _post(people)
    with pytest.raises(WishForbidden):
        wishes.publish_wish(people["grid2"], wish)  # another grid's worker
    with pytest.raises(WishForbidden):
        wishes.publish_wish(people["member"], wish)
    wishes.publish_wish(people["grid"], wish)
    with pytest.raises(WishForbidden):
        wishes.claim_wish(people["resident"], wish)
    other = create_user("neighbour", "resident", "a-long-password", area_code="610404001001001")
    wishes.claim_wish(people["member"], wish)
    wishes.complete_wish(people["member"], wish, "done", "1")
    with pytest.raises(WishForbidden):
        wishes.confirm_wish(other, wish, "good")
    assert wish.status == WishStatus.DONE


def test_only_members_of_the_wishs_community_may_claim_unless_widened(people, app):
    outsider = create_user("far-member", "member", "a-long-password", area_code="610404002001001")
    wish = _at(people, WishStatus.PUBLISHED)
    with pytest.raises(WishForbidden):
        wishes.claim_wish(outsider, wish)
    app.config["WISH_CLAIM_SCOPE"] = "district"
    try:
        wishes.claim_wish(outsider, wish)
    finally:
        app.config["WISH_CLAIM_SCOPE"] = "community"
    assert wish.status == WishStatus.CLAIMED


def test_a_member_holds_at_most_max_active_claims(people, app):
    limit = app.config["MAX_ACTIVE_CLAIMS"]
    held = db.session.scalar(select(func.count()).select_from(Wish).where(Wish.status == WishStatus.CLAIMED))
    for _ in range(limit - held):
        wishes.claim_wish(people["member"], _at(people, WishStatus.PUBLISHED))
    extra = _at(people, WishStatus.PUBLISHED)
    with pytest.raises(WishConflict) as refused:
        wishes.claim_wish(people["member"], extra)
    assert refused.value.code == "claim_limit"
    assert extra.status == WishStatus.PUBLISHED


@pytest.mark.parametrize(
    "values, field",
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"description": "长" * 10_000}, "description"),
        ({"category_code": "no-such-category"}, "category"),
        ({"grid_code": "610404999999999"}, "grid_code"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(people, values, field):
    count = db.session.scalar(select(func.count()).select_from(Wish))
    with pytest.raises(WishInvalid) as refused:
        _post(people, **values)
    assert field in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(Wish)) == count


@pytest.mark.parametrize("hours", ["0", "0.4", "24.5", "abc", "1.25", "NaN", "-1"])
def test_hours_outside_half_an_hour_to_a_day_are_refused(people, hours):
    wish = _at(people, WishStatus.CLAIMED)
    with pytest.raises(WishInvalid) as refused:
        wishes.complete_wish(people["member"], wish, "done", hours)
    assert "hours" in refused.value.errors
    assert wish.status == WishStatus.CLAIMED


def test_staff_post_on_behalf_of_a_resident_of_their_own_area(people):
    elderly = db.session.scalar(
        select(Resident).where(Resident.grid_code == "610404001001002", Resident.user_id.is_(None))
    )
    with pytest.raises(WishInvalid):
        wishes.post_wish(
            people["grid"], title="打扫卫生", description="", category_code="elderly", resident_id=elderly.id
        )  # grid worker of another grid
    wish = wishes.post_wish(
        people["grid2"],
        title="打扫卫生",
        description="",
        category_code="elderly",
        resident_id=elderly.id,
        publish=True,
    )
    assert wish.assisted and wish.owner_id is None and wish.resident_id == elderly.id
    assert wish.posted_by_id == people["grid2"].id and wish.grid_code == elderly.grid_code
    assert [s.action for s in wish.steps] == ["post", "publish"]
    # without an account of their own, the resident's grid staff act for them
    assert wishes.is_owner(people["grid2"], wish) and not wishes.is_owner(people["resident"], wish)


def test_visibility_follows_status_and_scope(people):
    submitted = _post(people)
    published = _at(people, WishStatus.PUBLISHED)
    db.session.commit()

    def visible(user):
        return set(db.session.scalars(select(Wish.id).where(wishes.visible_condition(user))))

    assert published.id in visible(None) and submitted.id not in visible(None)
    assert submitted.id in visible(people["resident"])
    assert submitted.id in visible(people["grid"]) and submitted.id not in visible(people["grid2"])
    assert submitted.id not in visible(people["member"])
    assert (
        db.session.scalar(select(func.count()).select_from(WishStep).where(WishStep.wish_id == submitted.id))
        == 1
    )


def test_an_unsatisfied_callback_reopens_a_confirmed_wish_and_takes_the_hours_back(people):
    before = _hours(people)
    wish = _at(people, WishStatus.CONFIRMED)
    with pytest.raises(WishForbidden):
        wishes.reopen_wish(people["grid2"], wish, "回访不满意")
    with pytest.raises(WishInvalid):
        wishes.reopen_wish(people["grid"], wish, "")
    wishes.reopen_wish(people["grid"], wish, "回访不满意：灯又坏了")
    assert wish.status == WishStatus.CLAIMED and wish.rating is None and wish.confirmed_at is None
    assert _hours(people) == before
    assert WishAction.REOPEN not in wishes.USER_ACTIONS
    wishes.complete_wish(people["member"], wish, "换了新灯", "1")
    wishes.confirm_wish(people["resident"], wish, "good")
    assert _hours(people) == before + 1


def test_can_and_check_find_the_members_profile_themselves(people):
    """Asked without the member profile, `can` and `check_action` look it up as available_actions does."""
    published, claimed = _at(people, WishStatus.PUBLISHED), _at(people, WishStatus.CLAIMED)
    member = people["member"]
    assert wishes.can(member, published, WishAction.CLAIM)
    assert wishes.can(member, claimed, WishAction.COMPLETE)
    wishes.check_action(member, claimed, WishAction.RELEASE)
    assert not wishes.can(people["resident"], published, WishAction.CLAIM)
    assert [a for a in wishes.available_actions(member, published) if wishes.can(member, published, a)] == (
        wishes.available_actions(member, published)
    )
