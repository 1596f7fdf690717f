"""Every action the site's and the back office's wish and event pages offer can be posted, and none other is offered.

Each machine is walked through every (role, status) pair with CSRF protection on, as in production: each action
button or form a page shows is posted (its token, the least valid input) to a fresh twin of the subject and is
taken — never 404, 405 or 500; a page never offers an action the service's `available_actions` does not list
for that user; an action a page does not offer, posted anyway, is refused with the service's own message and
writes nothing.
"""

import html
import re

import pytest
from hostile import FormFinder, local_path
from sqlalchemy import func, select
from test_api_routable import EVENT_SITUATIONS, WISH_SITUATIONS, _event_in, _wish_in

from app.extensions import db
from app.models import Event, EventStep, User, Wish, WishStep
from app.models.choices import Role, WishStatus
from app.services import events, wishes, workflow
from app.services.demo import DEMO_PASSWORDS
from app.services.errors import DomainError

pytestmark = pytest.mark.usefixtures("english")

PAGE_ROLES = tuple(name for name, spec in DEMO_PASSWORDS.items() if spec[1] != Role.INTEGRATION)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# the least valid value of each field an action asks for, by its name (the site's forms prefix it with the action)
LEAST = {
    "note": "已处理",
    "reason": "需要上级协调",
    "comment": "谢谢",
    "hours": "1",
    "rating": "good",
    "passed": "true",
    "satisfied": "true",
    "score": "5",
}
# boxes of which at least one must be ticked (the first offered is)
PICK_ONE = {"departments"}
SITE_WISH_ACTION = re.compile(r"/wishes/\d+/(\w+)")
BACK_OFFICE_ACTION = re.compile(r"/admin/(wish|event)/transition/(\w+)/\?id=\d+")
SITE_ACTIONS = ("claim", "release", "complete", "cancel", "confirm", "dispute")
BACK_OFFICE_VERBS = {
    "wish": ("publish", "reject", "cancel", "confirm", "dispute"),
    "event": (
        "accept",
        "start",
        "escalate",
        "dispatch",
        "answer",
        "resolve",
        "verify",
        "callback",
        "archive",
    ),
}


class AllFields(FormFinder):
    """The POST forms of a page with every field, unchecked boxes and radios included (kind "unchecked")."""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        kind = (a.get("type") or "").lower()
        if tag == "input" and kind in ("checkbox", "radio") and "checked" not in a and self._form is not None:
            self._form.fields.append((a.get("name"), "unchecked", a.get("value") or ""))
            return
        super().handle_starttag(tag, attrs)


def forms_of(page: str, url: str) -> list:
    finder = AllFields(url)
    finder.feed(page)
    return finder.forms


def least_input(form) -> dict:
    """What a person sends with `form`: what the page filled in, and the least valid value of each empty field."""
    values = {name: value for name, kind, value in form.fields if kind not in ("submit", "file", "unchecked")}
    for name, kind, value in form.fields:
        key = name.rsplit("-", 1)[-1]
        if key in LEAST and not values.get(name, "").strip():
            values[name] = LEAST[key]
        elif key in PICK_ONE and kind == "unchecked" and name not in values:
            values[name] = value  # the first box offered
    return values


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _steps(model, key, subject_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(key == subject_id))


def wish_steps(wish_id: int) -> int:
    return _steps(WishStep, WishStep.wish_id, wish_id)


def event_steps(event_id: int) -> int:
    return _steps(EventStep, EventStep.event_id, event_id)


@pytest.fixture
def pages(app, demo, monkeypatch):
    """A factory: a client logged in (through the login form, with its token) as a demo user; CSRF on."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # read per request by Flask-WTF
    monkeypatch.setitem(app.config, "MAX_ACTIVE_CLAIMS", 1000)  # the walk claims many wishes for one member
    clients = {}

    def make(username: str):
        if username not in clients:
            client = app.test_client()
            token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
            password = DEMO_PASSWORDS[username][0]
            answer = client.post(
                "/login", data={"username": username, "password": password, "csrf_token": token}
            )
            assert answer.status_code == 303, username
            clients[username] = client
        return clients[username]

    return make


def shown_after(client, response) -> str:
    """The text a person reads after posting: the page itself, or the page the redirect leads to."""
    if response.status_code in (302, 303):
        response = client.get(local_path(response.headers["Location"]))
    assert response.status_code not in (404, 405, 500)
    return html.unescape(response.get_data(as_text=True))


def post_offered(client, form, url: str, count) -> None:
    """Post an offered action's form to `url` (a fresh twin): it is taken."""
    before = count()
    answer = client.post(url, data=least_input(form))
    assert answer.status_code not in (404, 405, 500), (url, answer.status_code)
    assert count() > before, (url, answer.status_code, shown_after(client, answer)[-3000:])


def refusal(check, *args) -> str:
    """The message the service's `check(*args)` refuses with (it must refuse)."""
    try:
        check(*args)
    except DomainError as error:
        return error.message
    raise AssertionError("the service allows what the page does not offer")


# --- the site: a wish's page and the board ------------------------------------------------------------
@pytest.mark.parametrize("status", WISH_SITUATIONS)
def test_every_action_a_wish_page_offers_is_taken_and_no_other(pages, status):
    wish_id = _wish_in(status)
    for role in PAGE_ROLES:
        client, user = pages(role), _user(role)
        page = client.get(f"/wishes/{wish_id}")
        if page.status_code == 404:  # not theirs to see
            continue
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        if "data-claim-start" in text:  # the claim's form is on its confirmation step, one tap further
            text += client.get(f"/wishes/{wish_id}?confirm=claim").get_data(as_text=True)
        offered = {}
        for form in forms_of(text, f"/wishes/{wish_id}"):
            match = SITE_WISH_ACTION.fullmatch(local_path(form.action))
            if match:
                offered[match.group(1)] = form
        wish = db.session.get(Wish, wish_id)
        assert set(offered) <= set(wishes.available_actions(user, wish)), (role, status)
        for action, form in offered.items():
            twin = _wish_in(status)
            post_offered(client, form, f"/wishes/{twin}/{action}", lambda t=twin: wish_steps(t))
        for action in set(SITE_ACTIONS) - set(offered):
            wish = db.session.get(Wish, wish_id)
            message = refusal(wishes.check_action, user, wish, action, wishes.member_for(user))
            before = wish_steps(wish_id)
            answer = client.post(
                f"/wishes/{wish_id}/{action}",
                data={
                    "csrf_token": TOKEN.search(text).group(1),
                    **{f"{action}-{k}": v for k, v in LEAST.items()},
                },
            )
            assert message in shown_after(client, answer), (role, status, action)
            assert wish_steps(wish_id) == before


def test_the_board_offers_a_claim_only_where_the_service_allows_it(pages):
    for role in PAGE_ROLES:
        client, user = pages(role), _user(role)
        for found in re.finditer(r"/wishes/(\d+)\?confirm=claim", client.get("/").get_data(as_text=True)):
            wish = db.session.get(Wish, int(found.group(1)))
            assert "claim" in wishes.available_actions(user, wish), role
    member = pages("member")
    found = re.search(r"/wishes/(\d+)\?confirm=claim", member.get("/").get_data(as_text=True))
    assert found  # the demo member has wishes to claim on the board, each a tap away from its confirmation
    wish_id = int(found.group(1))
    step = member.get(f"/wishes/{wish_id}?confirm=claim").get_data(as_text=True)
    claims = [f for f in forms_of(step, f"/wishes/{wish_id}") if f.action.endswith("/claim")]
    post_offered(member, claims[0], f"/wishes/{wish_id}/claim", lambda: wish_steps(wish_id))
    assert db.session.get(Wish, wish_id).status == WishStatus.CLAIMED


@pytest.mark.parametrize("situation", EVENT_SITUATIONS)
def test_an_event_page_offers_no_action_on_the_site(pages, situation):
    """The site shows a reporter how their event goes; the steps are taken in the back office and the API."""
    event_id = _event_in(situation)
    for role in PAGE_ROLES:
        page = pages(role).get(f"/events/{event_id}")
        assert page.status_code in (200, 404)
        posted_to = [
            local_path(f.action) for f in forms_of(page.get_data(as_text=True), f"/events/{event_id}")
        ]
        assert not [path for path in posted_to if path.startswith("/events/")], (role, situation)


# --- the back office: a wish's and an event's details page --------------------------------------------
def back_office_walk(pages, kind: str, subject_id: int, make, count, listed, refused) -> list:
    """Each staff user's offered actions on the details page: listed by the service, posted and taken on a
    fresh twin; the verbs not offered are refused with the service's message. The (role, verb) pairs taken."""
    taken = []
    for role in PAGE_ROLES:
        client, user = pages(role), _user(role)
        page = client.get(f"/admin/{kind}/details/?id={subject_id}")
        if page.status_code != 200:  # not a back-office user, or not in their area
            assert page.status_code in (302, 403, 404), (role, page.status_code)
            continue
        text = page.get_data(as_text=True)
        offered = {}
        for form in forms_of(text, f"/admin/{kind}/details/"):  # one-click steps post from the page itself
            match = BACK_OFFICE_ACTION.fullmatch(local_path(form.action))
            if match and match.group(1) == kind:
                offered[match.group(2)] = form
        for link in re.findall(r'href="([^"]+)"', text):
            match = BACK_OFFICE_ACTION.fullmatch(local_path(html.unescape(link)))
            if match and match.group(1) == kind and match.group(2) not in offered:
                asked = client.get(local_path(html.unescape(link)))
                assert asked.status_code == 200, (role, link, asked.status_code)
                form = [f for f in forms_of(asked.get_data(as_text=True), link) if "transition" in f.action]
                offered[match.group(2)] = form[0]
        assert set(offered) <= set(listed(user, subject_id)), (role, kind, offered.keys())
        for verb, form in offered.items():
            twin = make()
            post_offered(client, form, f"/admin/{kind}/transition/{verb}/?id={twin}", lambda t=twin: count(t))
            taken.append((role, verb))
        for verb in set(BACK_OFFICE_VERBS[kind]) - set(offered):
            message = refused(user, subject_id, verb)
            before = count(subject_id)
            answer = client.post(
                f"/admin/{kind}/transition/{verb}/?id={subject_id}",
                data={"csrf_token": TOKEN.search(text).group(1), **LEAST},
            )
            assert message in shown_after(client, answer), (role, kind, verb)
            assert count(subject_id) == before
    return taken


@pytest.mark.parametrize("status", WISH_SITUATIONS)
def test_every_action_a_back_office_wish_page_offers_is_taken_and_no_other(pages, status):
    def listed(user, wish_id):
        return wishes.available_actions(user, db.session.get(Wish, wish_id))

    def refused(user, wish_id, verb):
        wish = db.session.get(Wish, wish_id)
        return refusal(wishes.check_action, user, wish, verb, wishes.member_for(user))

    taken = back_office_walk(
        pages, "wish", _wish_in(status), lambda: _wish_in(status), wish_steps, listed, refused
    )
    if status == WishStatus.SUBMITTED:  # staff review what residents post
        assert taken


@pytest.mark.parametrize("situation", EVENT_SITUATIONS)
def test_every_action_a_back_office_event_page_offers_is_taken_and_no_other(pages, situation):
    def listed(user, event_id):
        return events.interface_actions(user, db.session.get(Event, event_id))

    def refused(user, event_id, verb):
        event = db.session.get(Event, event_id)
        message = workflow.refusal_of(events.MACHINE, user, event, verb)
        assert message, (user.username, situation, verb)
        return message

    taken = back_office_walk(
        pages, "event", _event_in(situation), lambda: _event_in(situation), event_steps, listed, refused
    )
    if situation != "archived":
        assert taken
