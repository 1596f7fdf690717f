"""The answer to a wish action over the API is the wish as GET /wishes/<id> then shows it to the same caller
(less the contacts, which only the detail offers): the action's answer reads its rows without the ORM
(app/api/wish_answer.py), the detail through it, and both go through one presenter."""

import pytest
from photo_support import png
from test_api_wishes import Caller
from test_attachments import complete_with_a_photo, new_wish, upload, user

from app.api.wish_answer import answered, reading_with_step
from app.extensions import db
from app.models.choices import WishAction
from app.services import wishes
from app.services.masking import mask_name

pytestmark = pytest.mark.usefixtures("english")


def detail(caller: Caller, wish_id: int) -> dict:
    body = caller.get(f"/api/v1/wishes/{wish_id}").get_json()
    body.pop("contacts")
    return body


def test_a_claims_answer_is_what_the_detail_then_shows(client, demo):
    wish_id = new_wish(publish=True).id
    owner_name = user("resident").name
    member = Caller(client, "member")
    db.session.remove()

    response = member.act(wish_id, "claim")

    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer == detail(member, wish_id)
    assert answer["category"] == "repair" and answer["status"] == "claimed"
    assert answer["owner"] == mask_name(owner_name)
    assert [(s["action"], s["from"], s["to"]) for s in answer["history"]] == [
        ("post", None, "submitted"),
        ("publish", "submitted", "published"),
        ("claim", "published", "claimed"),
    ]
    assert answer["claimed_by"] is not None and answer["history"][-1]["actor"] == answer["claimed_by"]
    assert answer["actions"] == ["release", "complete"]


def test_the_photos_of_the_wish_and_of_its_steps_come_with_each_answer(client, demo, login_as):
    wish_id = new_wish().id
    owner, grid, member = (Caller(client, name) for name in ("resident", "grid", "member"))
    own = upload(owner, f"/api/v1/wishes/{wish_id}/attachments", png())
    assert own.status_code == 201, own.get_json()

    published = grid.act(wish_id, "publish")
    assert published.status_code == 200, published.get_json()
    assert published.get_json() == detail(grid, wish_id)
    assert [a["id"] for a in published.get_json()["attachments"]] == [own.get_json()["id"]]

    assert member.act(wish_id, "claim").status_code == 200
    done = complete_with_a_photo(login_as("member"), wish_id)  # the evidence photo comes through the site
    assert done.status_code == 303
    db.session.remove()

    confirmed = owner.act(wish_id, "confirm", rating="good", comment="谢谢")

    assert confirmed.status_code == 200, confirmed.get_json()
    answer = confirmed.get_json()
    assert answer == detail(owner, wish_id)
    complete = next(step for step in answer["history"] if step["action"] == "complete")
    assert len(complete["attachments"]) == 1 and complete["note"] == "换好了"
    assert [a["id"] for a in answer["attachments"]] == [own.get_json()["id"]]
    assert answer["status"] == "confirmed" and answer["rating"] == "good"


def test_rows_read_with_two_steps_on_one_wish_are_what_the_last_step_left(demo):
    wish = new_wish()  # submitted
    with reading_with_step(wish) as along:
        wishes.perform(user("grid"), wish, WishAction.PUBLISH)
        wishes.perform(user("member"), wish, WishAction.CLAIM)
    answer = answered(wish, along)
    assert [step.action for step in answer.steps] == ["post", "publish", "claim"]
    assert answer.claimed_by is not None and answer.category.code == "repair"
    db.session.rollback()
