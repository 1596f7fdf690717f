"""API tokens: issued for the right password with an expiry, stored as a hash, refused with a JSON 401."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from test_api import (
    assert_error,
    get_token,
    strict_app,  # noqa: F401  (a fixture: the app with CSRF on)
)

from app.extensions import db
from app.models import ApiToken, User
from app.services.tokens import issue_token, user_for_token

# tokens


def test_right_password_gets_a_token_that_expires_after_the_configured_ttl(client, demo, app):
    before = datetime.now(UTC)
    response = client.post("/api/v1/auth/token", json={"username": "grid", "password": "onegrid-grid"})

    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 40
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.tzinfo is not None
    assert before + app.config["API_TOKEN_TTL"] - timedelta(minutes=1) < expires_at
    assert expires_at < datetime.now(UTC) + app.config["API_TOKEN_TTL"] + timedelta(minutes=1)


def test_only_the_hash_of_a_token_is_stored(client, demo):
    raw = get_token(client, "grid")

    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [ApiToken.hash(raw)]
    assert raw not in stored


def test_wrong_password_is_refused_with_a_json_401(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "grid", "password": "wrong-password"})

    assert_error(response, 401, "invalid_credentials")
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_disabled_account_gets_no_token(client, demo):
    db.session.execute(update(User).where(User.username == "grid").values(active=False))
    db.session.commit()

    response = client.post("/api/v1/auth/token", json={"username": "grid", "password": "onegrid-grid"})

    assert_error(response, 401, "invalid_credentials")


def test_token_request_without_a_password_is_a_422_naming_the_field(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "grid"})

    error = assert_error(response, 422, "validation_error")
    assert "password" in error["fields"]


def test_token_request_with_broken_json_is_a_json_400(client, demo):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")

    assert_error(response, 400)


def test_token_endpoint_needs_no_csrf_token_even_with_csrf_enabled(strict_app):  # noqa: F811  (imported above)
    response = strict_app.test_client().post("/api/v1/auth/token", json={})

    # 422 from validation, not 400 from CSRF: the API blueprints are exempt
    assert_error(response, 422, "validation_error")


def test_request_without_a_token_is_a_json_401_with_a_bearer_challenge(client, demo):
    response = client.get("/api/v1/areas")

    assert_error(response, 401, "missing_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_a_json_401(client, demo):
    response = client.get("/api/v1/areas", headers={"Authorization": "Bearer not-a-real-token"})

    assert_error(response, 401, "invalid_token")


def test_expired_token_is_a_json_401(client, demo):
    raw = get_token(client, "grid")
    db.session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()

    response = client.get("/api/v1/areas", headers={"Authorization": f"Bearer {raw}"})

    assert_error(response, 401, "invalid_token")


def test_token_of_a_user_disabled_later_stops_working(client, demo):
    raw = get_token(client, "grid")
    db.session.execute(update(User).where(User.username == "grid").values(active=False))
    db.session.commit()

    response = client.get("/api/v1/areas", headers={"Authorization": f"Bearer {raw}"})

    assert_error(response, 401, "invalid_token")


def test_issued_token_leads_back_to_its_user_until_it_expires(demo):
    user = db.session.scalar(select(User).where(User.username == "street"))
    raw, _expires_at = issue_token(user)
    expired, _ = issue_token(user, ttl=timedelta(seconds=-1))
    db.session.commit()

    assert user_for_token(raw) == user
    assert user_for_token(expired) is None
    assert user_for_token("") is None


def test_issuing_a_token_drops_the_users_expired_ones(demo):
    user = db.session.scalar(select(User).where(User.username == "street"))
    issue_token(user, ttl=timedelta(seconds=-1))
    issue_token(user)

    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
