"""Every response carries the security headers; personal data and API answers are never stored; no inline script."""

import re
from html.parser import HTMLParser

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.extensions import db
from app.models import Resident, Wish
from app.models.webhooks import WebhookEndpoint
from app.services.webhooks import new_secret

COMPANIONS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secured(response) -> str:
    """The headers every response needs; returns its content security policy."""
    for name, value in COMPANIONS.items():
        assert response.headers.get(name) == value, name
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'self'" in directives["script-src"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(directives["script-src"])
    assert "Strict-Transport-Security" not in response.headers  # cookies are not secure in the tests
    return policy


def script_nonce(policy: str) -> str | None:
    match = re.search(r"script-src[^;]*'nonce-([^']+)'", policy)
    return match.group(1) if match else None


def test_site_pages_error_pages_and_redirects_carry_the_security_headers(client, demo, auth):
    wish = db.session.scalars(select(Wish).where(Wish.status == "published")).first()
    for url in ["/", "/login", "/register", f"/wishes/{wish.id}", "/no-such-page", "/admin/"]:
        response = client.get(url)
        assert response.status_code in (200, 302, 404), url
        assert_secured(response)
        assert "no-store" not in response.headers.get("Cache-Control", "")  # nothing personal on them
    auth.login("resident")
    assert_secured(client.get("/account"))


def test_static_files_carry_the_security_headers(client):
    for url in [
        "/static/js/board.js",
        "/static/css/site.css",
        "/admin/grid_map/static/js/handlers.js",
        "/admin/static/vendor/jquery.min.js",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_secured(response)


def test_every_api_answer_is_never_stored(client, demo):
    token = client.post("/api/v1/auth/token", json={"username": "grid", "password": "onegrid-grid"})
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    for response in [
        token,  # the token itself
        client.get("/api/v1/wishes", headers=bearer),
        client.get("/api/v1/areas", headers=bearer),
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/wishes"),  # 401
        client.get("/api/v1/no-such-thing", headers=bearer),  # 404
        client.post("/api/v1/auth/token", json={"username": "grid", "password": "wrong-password"}),
    ]:
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert_secured(response)


def test_the_reveal_page_is_never_stored_and_the_masked_pages_around_it_may_be(login_as):
    grid = login_as("grid")
    resident = db.session.scalars(select(Resident).where(Resident.grid_code == "610404001001001")).first()
    details = grid.get(f"/admin/resident/details/?id={resident.id}")
    assert resident.phone not in details.get_data(as_text=True)
    assert "no-store" not in details.headers.get("Cache-Control", "")
    reveal = grid.post("/admin/resident/reveal/", data={"id": resident.id})
    assert resident.phone in reveal.get_data(as_text=True)
    assert reveal.headers["Cache-Control"] == "no-store"
    assert_secured(reveal)


def test_strict_transport_security_is_sent_only_while_cookies_are_secure(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE", 600)
    monkeypatch.setitem(app.config, "HSTS_INCLUDE_SUBDOMAINS", True)
    assert client.get("/login").headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
    monkeypatch.setitem(app.config, "HSTS_MAX_AGE", 0)
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_policy_can_be_replaced_or_sent_report_only_by_setting(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "CONTENT_SECURITY_POLICY", "default-src 'self'; frame-ancestors 'none'")
    assert (
        client.get("/login").headers["Content-Security-Policy"]
        == "default-src 'self'; frame-ancestors 'none'"
    )
    monkeypatch.setitem(app.config, "CSP_REPORT_ONLY", True)
    response = client.get("/login")
    assert "Content-Security-Policy" not in response.headers
    assert (
        response.headers["Content-Security-Policy-Report-Only"]
        == "default-src 'self'; frame-ancestors 'none'"
    )


def test_each_back_office_page_gets_a_fresh_nonce_and_its_scripts_carry_it(login_as):
    grid = login_as("grid")
    first, second = grid.get("/admin/resident/"), grid.get("/admin/resident/")
    nonces = [script_nonce(assert_secured(r)) for r in (first, second)]
    assert nonces[0] and nonces[1] and nonces[0] != nonces[1]
    tags = re.findall(r"<script\b[^>]*>", first.get_data(as_text=True))
    assert tags and all(f'nonce="{nonces[0]}"' in tag for tag in tags if "echarts" not in tag)


class InlineScriptFinder(HTMLParser):
    """Collects what the policy would refuse: inline handlers, and inline scripts without the page's nonce."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce, self.found = nonce, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found += [f"<{tag} {name}=…>" for name in attrs if name.startswith("on")]
        for name in ("href", "action", "formaction", "src"):
            if tag != "a" and (attrs.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
        data_block = attrs.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and not attrs.get("src") and not data_block and attrs.get("nonce") != self.nonce:
            self.found.append("<script> without the nonce")


def inline_script(response) -> list[str]:
    finder = InlineScriptFinder(script_nonce(response.headers.get("Content-Security-Policy", "")))
    finder.feed(response.get_data(as_text=True))
    return finder.found


def back_office_pages(app) -> list[str]:
    """Every back-office page there is: each view's index, its create form and a record's details and edit form."""
    urls = []
    with app.test_request_context():
        for view in app.extensions["admin"][0]._views:
            model = getattr(view, "model", None)
            row = db.session.scalars(select(model).limit(1)).first() if model is not None else None
            wanted = [("index", {}), ("index_view", {}), ("create_view", {})]
            if row is not None:
                wanted += [("details_view", {"id": row.id}), ("edit_view", {"id": row.id})]
            for name, args in wanted:
                try:
                    urls.append(url_for(f"{view.endpoint}.{name}", **args))
                except BuildError:  # a view without that page
                    pass
    return urls


def test_no_page_carries_script_the_policy_would_refuse(app, demo, login_as):
    db.session.add(
        WebhookEndpoint(
            url="https://receiver.example/hook",
            secret=new_secret(),
            event_types=["wish.published"],
            active=True,
            description="receiver",
        )
    )
    db.session.commit()
    admin = login_as("admin")
    pages = back_office_pages(app)
    assert len(pages) > 60
    resident = login_as("resident")
    wish = db.session.scalars(select(Wish).where(Wish.status == "published")).first()
    site = [
        "/",
        "/login",
        "/register",
        f"/wishes/{wish.id}",
        "/account",
        "/wishes/new",
        "/events/new",
        "/my/wishes",
    ]
    refused = {}
    for client, urls in ((admin, pages), (resident, site)):
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 302), url
            if inline_script(response):
                refused[url] = inline_script(response)
    assert refused == {}


@pytest.mark.parametrize(
    "policy, nonce, expected",
    [
        ("default-src 'self'; script-src 'self'", None, "default-src 'self'; script-src 'self'"),
        ("default-src 'self'; script-src 'self'", "abc", "default-src 'self'; script-src 'self' 'nonce-abc'"),
        (
            "default-src 'self'",
            "abc",
            "default-src 'self'",
        ),  # no script-src of its own: no inline script at all
    ],
)
def test_the_nonce_joins_the_script_source_only(policy, nonce, expected):
    from app.security import content_security_policy

    assert content_security_policy(policy, nonce) == expected
