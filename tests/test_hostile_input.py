"""Hostile input everywhere: every API operation and every form of the site and the back office; never a 5xx, nothing written.

The operations come from the OpenAPI document and the forms from crawling each role's pages (the url_map's pages and
the links on them), so a new endpoint or form is attacked without anyone listing it here.
"""

import json

import pytest
from flask import url_for
from hostile import (
    FIELD_VALUES,
    RAW_BODIES,
    RAW_INVALID_UTF8,
    URL_VALUES,
    example_of,
    fill_path,
    find_forms,
    form_payloads,
    local_path,
    operations,
    raw_form_bodies,
    resolve,
    stored_markers,
    with_query,
)
from sqlalchemy import func, select
from test_api_wishes import Caller

from app.extensions import db
from app.models import Certificate, Event, Wish

# real codes of the demo district, for fields that name one (the rest of a body is built from the document)
DOMAIN = {
    "category": "repair",
    "matter": "HW-001",
    "grid_code": "610404001001001",
    "departments": ["HW"],
    "rating": "good",
    "area": "610404001001001",
    "parent": "610404001001",
}
# pages that end the session or only leave it: posting to them would leave the crawl logged out
LEAVING = {"marketplace.logout"}
# back-office endpoints that delete or act on rows picked by id: only whole-form payloads (ids hostile), so the
# demo rows the later forms need are not deleted along the way
ROW_ACTIONS = ("delete_view", "action_view")


class Attack:
    """Sends requests, noting each one that answers 5xx or raises (the test app propagates exceptions)."""

    def __init__(self, client):
        self.client, self.failures, self.sent = client, [], 0

    def send(self, label: str, method: str, url: str, **kwargs):
        self.sent += 1
        try:
            response = self.client.open(url, method=method.upper(), **kwargs)
        except Exception as error:
            db.session.rollback()
            self.failures.append(
                f"{method.upper()} {url[:120]} [{label}]: {type(error).__name__}: {error!s:.200}"
            )
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {url[:120]} [{label}]: {response.status_code}")
        return response

    def assert_clean(self):
        """No request failed and nothing hostile was stored."""
        written = stored_markers()
        assert not written, f"hostile values were stored in {written}"
        assert not self.failures, f"{len(self.failures)} of {self.sent} requests failed:\n" + "\n".join(
            self.failures
        )


def known_ids() -> dict:
    """Ids of records that exist, for path parameters."""
    return {
        "wish_id": db.session.scalar(select(Wish.id).order_by(Wish.id)),
        "event_id": db.session.scalar(select(Event.id).order_by(Event.id)),
        "serial": db.session.scalar(select(Certificate.serial)) or "x",
    }


# --- the API --------------------------------------------------------------------------------------


def attack_operation(
    attack: Attack, document: dict, method: str, path: str, operation: dict, headers: dict, known: dict
):
    url = fill_path(path, known)
    for parameter in operation["parameters"]:
        for label, value in URL_VALUES.items():
            where = f"{parameter['in']} {parameter['name']} {label}"
            if parameter["in"] == "path":
                attack.send(
                    where, method, fill_path(path, known, (parameter["name"], value)), headers=headers
                )
            elif parameter["in"] == "query":
                attack.send(where, method, with_query(url, {parameter["name"]: value}), headers=headers)
            elif parameter["in"] == "header" and "%" not in value:
                attack.send(where, method, url, headers={**headers, parameter["name"]: value}, json={})
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return
    schema = resolve(document, body["schema"])
    base = example_of(document, schema, DOMAIN)
    for name in schema.get("properties", {}):
        for label, value in FIELD_VALUES.items():
            attack.send(f"{name} {label}", method, url, headers=headers, json={**base, name: value})
    for label, raw in RAW_BODIES.items():
        attack.send(label, method, url, headers=headers, data=raw, content_type="application/json")
    attack.send(
        "invalid UTF-8", method, url, headers=headers, data=RAW_INVALID_UTF8, content_type="application/json"
    )
    attack.send("form instead of JSON", method, url, headers=headers, data={"a": "b"})
    attack.send("text/plain", method, url, headers=headers, data=json.dumps(base), content_type="text/plain")
    attack.send(
        "over the API's cap",
        method,
        url,
        headers=headers,
        data=b" " * (2 * 1024 * 1024),
        content_type="application/json",
    )


@pytest.mark.parametrize("username", ["admin", "grid"])
def test_no_api_operation_fails_or_stores_anything_on_hostile_input(app, client, demo, username):
    document = client.get("/api/v1/openapi.json").get_json()
    headers = Caller(client, username).headers
    attack, known = Attack(client), known_ids()
    for method, path, operation in operations(document):
        attack_operation(attack, document, method, path, operation, headers, known)
    assert attack.sent > 1000
    attack.assert_clean()


# --- pages with forms ------------------------------------------------------------------------------


def page_urls(app, prefix: str) -> list[str]:
    """Every page under `prefix` (not the API) a GET can open: the url_map's rules, with ids of real rows."""
    urls = []
    known = known_ids()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if (
                "GET" not in rule.methods
                or not in_area(rule.rule, prefix)
                or "static" in rule.endpoint
                or rule.endpoint.endswith(".export")
            ):  # exports are files, and slow
                continue
            if rule.arguments - set(known):
                continue
            url = url_for(rule.endpoint, **{name: known[name] for name in rule.arguments})
            if rule.endpoint.endswith((".edit_view", ".details_view")):
                url += f"?id={_last_id(app, rule.endpoint)}"
            urls.append(url)
    return urls


def _last_id(app, endpoint: str):
    # the newest row: never the administrator's own account, which a hostile password field would lock out
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == endpoint.split(".")[0])
    return db.session.scalar(select(func.max(view.model.id))) or 1


def in_area(path: str, prefix: str) -> bool:
    """Whether `path` belongs to the back office (prefix /admin/) or the site (prefix /: neither the back office
    nor the API)."""
    if prefix != "/":
        return path.startswith(prefix)
    return not path.startswith(("/admin", "/api/"))


def crawl_forms(app, client, prefix: str) -> dict:
    """The POST forms on the pages under `prefix` and on the pages their links lead to, one per endpoint."""
    adapter = app.url_map.bind("localhost")
    forms, seen, pages = {}, set(), page_urls(app, prefix)
    while pages:
        url = pages.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found, links = find_forms(response.get_data(as_text=True), "http://localhost" + url)
        for form in found:
            path = local_path(form.action)
            try:
                endpoint, arguments = adapter.match(path.split("?")[0], method="POST")
            except Exception:  # noqa: S112 (not a form's address: nothing to post)
                continue
            if in_area(path, prefix) and endpoint not in LEAVING:
                key = (endpoint, tuple(sorted(arguments.items())))
                forms.setdefault(key, (path, form))
        for link in links:
            path = local_path(link)
            if not in_area(path, prefix) or path in seen:
                continue
            try:
                adapter.match(path.split("?")[0], method="POST")  # only pages that take a form
            except Exception:  # noqa: S112 (not a form's address: nothing to post)
                continue
            pages.append(path)
    return forms


def attack_forms(attack: Attack, forms: dict):
    for (endpoint, _args), (path, form) in forms.items():
        per_field = not endpoint.endswith(ROW_ACTIONS)
        for label, kwargs in form_payloads(form, per_field):
            attack.send(label, "POST", path, **kwargs)
        for label, kwargs in raw_form_bodies():
            attack.send(label, "POST", path, **kwargs)


@pytest.mark.parametrize("username", [None, "resident", "member"])
def test_no_site_form_fails_or_stores_anything_on_hostile_input(app, client, demo, auth, username):
    if username:
        auth.login(username)
    forms = crawl_forms(app, client, "/")
    assert len(forms) >= (3 if username else 2)
    attack = Attack(client)
    attack_forms(attack, forms)
    attack.assert_clean()


def test_no_back_office_form_fails_or_stores_anything_on_hostile_input(app, client, demo, auth):
    auth.login("admin")
    forms = crawl_forms(app, client, "/admin/")
    assert len(forms) >= 40
    attack = Attack(client)
    attack_forms(attack, forms)
    attack.assert_clean()
