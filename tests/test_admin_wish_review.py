"""Reviewing wishes from the list: the text in the list, 发布 and 退回 per row, destructive apart from 返回."""

import re

import pytest

from app.extensions import db
from app.models import Wish
from app.models.choices import WishAction, WishStatus
from tests.test_admin_wishes import listed_ids, post, reload, text

pytestmark = pytest.mark.usefixtures("english")


# --- reviewing from the list (issue 16 item 7) ------------------------------------------------------
def _row_form(page: str, marker: str, wish_id: int) -> tuple[str, dict]:
    """The action and hidden fields of the row form whose button carries `marker`="<id>"."""
    for form in re.findall(r"<form[^>]*>.*?</form>", page, re.DOTALL):
        if f'{marker}="{wish_id}"' in form:
            action = re.search(r'action="([^"]+)"', form).group(1).replace("&amp;", "&")
            hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
            return action, {k: v.replace("&amp;", "&") for k, v in hidden.items()}
    raise AssertionError(f"no {marker} form for {wish_id}")


def test_the_review_list_shows_the_text_and_publishes_and_rejects_per_row(login_as):
    long_text = "楼道灯坏了三个月，" * 12
    one = post("帮忙换灯泡")
    db.session.get(Wish, one.id).description = long_text
    two = post("帮忙取快递")
    db.session.commit()
    client = login_as("grid")
    page = text(client.get("/admin/wish_review/"))
    # the whole text is there (clamped by CSS), the full text on hover
    assert f'class="og-clamp" tabindex="0" title="{long_text}"' in page
    assert 'data-label="Description"' in page
    # per row: a labelled 发布 button and a 退回 that asks for its reason
    assert f'data-row-publish="{one.id}">Publish<' in page and f'data-row-reject="{two.id}">Reject' in page
    assert 'aria-label="View Record"' in page and 'class="og-row-label"' in page
    action, hidden = _row_form(page, "data-row-publish", one.id)
    response = client.post(action, data=hidden)
    assert response.status_code == 302 and "/admin/wish_review/" in response.headers["Location"]
    assert reload(one).status == WishStatus.PUBLISHED
    assert (
        reload(one).steps[-1].action == WishAction.PUBLISH and reload(one).steps[-1].actor.username == "grid"
    )
    page = text(client.get("/admin/wish_review/"))
    assert one.id not in listed_ids(page) and two.id in listed_ids(page)
    action, hidden = _row_form(page, "data-row-reject-submit", two.id)
    assert 'name="reason"' in page and "required" in page
    refused = client.post(action, data={**hidden, "reason": " "})
    assert refused.status_code == 200 and reload(two).status == WishStatus.SUBMITTED
    response = client.post(action, data={**hidden, "reason": "属于商业服务"})
    assert response.status_code == 302 and "/admin/wish_review/" in response.headers["Location"]
    assert (reload(two).status, reload(two).reject_reason) == (WishStatus.REJECTED, "属于商业服务")
    assert listed_ids(text(client.get("/admin/wish_review/"))) == [i for i in listed_ids(page) if i != two.id]


def test_destructive_buttons_stand_apart_from_back(login_as):
    wish = post("帮忙搬家具")
    client = login_as("grid")
    details = text(client.get(f"/admin/wish/details/?id={wish.id}"))
    forward, destructive = details.split('class="ml-auto og-destructive"')
    assert 'data-wish-action="publish"' in forward and 'data-wish-action="reject"' not in forward
    assert 'data-wish-action="reject"' in destructive.split("</div>")[0]
    form = text(client.get(f"/admin/wish/transition/reject/?id={wish.id}"))
    back, rest = form.split("og-back", 1)[1].split("</a>", 1)
    assert "Back" in back and "Back" not in rest.split("</form>")[0]  # 返回 is not beside 退回
