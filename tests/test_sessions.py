"""Logout, a password change and a deactivation end sessions, remember-me cookies and API tokens for good."""

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import ApiToken, Area, AuditLog, LoginSession, User
from app.models.base import utcnow
from app.services.demo import DEMO_PASSWORDS

GRID = "610404001001001"
NEW_PASSWORD = "a-brand-new-password"


def log_in(app, username: str, remember: bool = False):
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": DEMO_PASSWORDS[username][0],
            **({"remember": "y"} if remember else {}),
        },
    )
    assert response.status_code == 303, response.status_code
    return client


def copy_of(app, client, *names: str):
    """Another browser holding copies of `client`'s cookies (all of them unless named)."""
    other = app.test_client()
    for name in names or ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


def logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def token_for(client, username: str) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORDS[username][0]}
    )
    assert response.status_code == 200
    return response.get_json()["token"]


def token_works(client, token: str) -> bool:
    return client.get("/api/v1/areas", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def user_form(user: User, **changes) -> dict:
    """The back office's edit form for `user`, as it comes filled in, with `changes`."""
    data = {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "area": db.session.scalar(select(Area.id).where(Area.code == user.area_code)),
        "active": "y",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def resident() -> User:
    db.session.expire_all()  # requests ran in sessions of their own
    return db.session.scalars(select(User).where(User.username == "resident")).one()


# --- the remember-me cookie -------------------------------------------------------------------------


def test_remember_me_cookie_is_lax_http_only_and_lives_days_not_a_year(app, demo):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": "resident", "password": DEMO_PASSWORDS["resident"][0], "remember": "y"}
    )
    assert response.status_code == 303
    cookie = client.get_cookie("remember_token")
    assert cookie.same_site == "Lax" and cookie.http_only
    assert timedelta(days=13) < cookie.expires - utcnow() <= timedelta(days=14)


# --- logout -----------------------------------------------------------------------------------------


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, demo):
    client = log_in(app, "resident")
    stolen = copy_of(app, client, "session")
    assert logged_in(stolen)
    client.post("/logout")
    assert not logged_in(client)
    assert not logged_in(stolen)


def test_a_remember_me_cookie_copied_before_logout_is_dead_after_it(app, demo):
    client = log_in(app, "resident", remember=True)
    stolen = copy_of(app, client, "remember_token")
    assert logged_in(stolen)  # the cookie alone logs in: that is what it is for
    client.post("/logout")
    assert not logged_in(copy_of(app, client, "remember_token")) and not logged_in(stolen)


def test_logging_out_ends_only_that_session(app, demo):
    phone, laptop = log_in(app, "resident"), log_in(app, "resident")
    phone.post("/logout")
    assert logged_in(laptop)


def test_an_expired_login_session_logs_nobody_in(app, demo):
    client = log_in(app, "resident", remember=True)
    db.session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not logged_in(client)
    assert not logged_in(copy_of(app, client, "remember_token"))


def test_a_cookie_naming_only_a_user_id_logs_nobody_in(app, demo):
    """Cookies from before login sessions (and forged ones) carry no session key."""
    client = log_in(app, "resident")
    with client.session_transaction() as session:
        session["_user_id"] = str(resident().id)
    assert not logged_in(client)


# --- a password change in the back office -----------------------------------------------------------


def test_an_admin_password_change_ends_the_users_sessions_remember_cookies_and_tokens(app, demo):
    browser = log_in(app, "resident", remember=True)
    session_only, remember_only = copy_of(app, browser, "session"), copy_of(app, browser, "remember_token")
    token = token_for(browser, "resident")
    assert logged_in(session_only) and logged_in(remember_only) and token_works(browser, token)

    admin = log_in(app, "admin")
    user = resident()
    response = admin.post(f"/admin/user/edit/?id={user.id}", data=user_form(user, new_password=NEW_PASSWORD))
    assert response.status_code == 302

    assert not logged_in(browser) and not logged_in(session_only) and not logged_in(remember_only)
    assert not token_works(browser, token)
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "resident", "password": NEW_PASSWORD}).status_code == 303
    assert logged_in(fresh)
    entry = db.session.scalars(
        select(AuditLog).where(
            AuditLog.model == "User", AuditLog.action == "update", AuditLog.object_id == str(user.id)
        )
    ).one()
    assert entry.after == {"password_hash": "(changed)"} and NEW_PASSWORD not in str(entry.before)


def test_saving_a_user_without_a_new_password_keeps_their_sessions(app, demo):
    browser = log_in(app, "resident")
    token = token_for(browser, "resident")
    user = resident()
    response = log_in(app, "admin").post(
        f"/admin/user/edit/?id={user.id}", data=user_form(user, name="陈秀英（改）")
    )
    assert response.status_code == 302
    assert logged_in(browser) and token_works(browser, token)


def test_an_admin_changing_their_own_password_stays_logged_in_while_other_sessions_end(app, demo):
    admin, elsewhere = log_in(app, "admin"), log_in(app, "admin")
    token = token_for(admin, "admin")
    me = db.session.scalars(select(User).where(User.username == "admin")).one()
    form = {
        "username": "admin",
        "name": me.name,
        "role": "admin",
        "active": "y",
        "new_password": NEW_PASSWORD,
    }
    assert admin.post(f"/admin/user/edit/?id={me.id}", data=form).status_code == 302
    assert admin.get("/admin/").status_code == 200
    assert not logged_in(elsewhere)
    assert not token_works(admin, token)


def test_deactivating_a_user_ends_their_sessions_and_tokens_for_good(app, demo):
    browser = log_in(app, "resident", remember=True)
    remember_only = copy_of(app, browser, "remember_token")
    token = token_for(browser, "resident")
    admin = log_in(app, "admin")
    user = resident()
    assert admin.post(f"/admin/user/edit/?id={user.id}", data=user_form(user, active=None)).status_code == 302
    assert not resident().active
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.model == "User", AuditLog.action == "update")
    ).one()
    assert audit.before == {"active": True} and audit.after == {
        "active": False
    }  # the audit still sees the change

    # switched on again: the old cookies and token stay dead, a new login works
    assert admin.post(f"/admin/user/edit/?id={user.id}", data=user_form(resident())).status_code == 302
    assert resident().active
    assert not logged_in(browser) and not logged_in(remember_only) and not token_works(browser, token)
    assert logged_in(log_in(app, "resident"))


# --- changing one's own password on the site ---------------------------------------------------------


def change_own_password(client, current: str, new: str = NEW_PASSWORD):
    return client.post(
        "/account/password", data={"current_password": current, "password": new, "confirm": new}
    )


def test_a_user_changing_their_own_password_stays_logged_in_while_other_sessions_and_tokens_end(app, demo):
    here, phone = log_in(app, "resident"), log_in(app, "resident", remember=True)
    remembered = copy_of(app, phone, "remember_token")
    token = token_for(here, "resident")
    assert 'href="/account/password"' in here.get("/account").get_data(as_text=True)
    response = change_own_password(here, DEMO_PASSWORDS["resident"][0])
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert logged_in(here)
    assert not logged_in(phone) and not logged_in(remembered) and not token_works(here, token)
    assert resident().check_password(NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing(app, demo):
    here, phone = log_in(app, "resident"), log_in(app, "resident")
    response = change_own_password(here, "not-my-password")
    assert response.status_code == 200 and "当前密码不正确" in response.get_data(as_text=True)
    assert resident().check_password(DEMO_PASSWORDS["resident"][0])
    assert logged_in(phone)


def test_the_new_password_must_be_long_enough_and_typed_twice_alike(app, demo):
    here = log_in(app, "resident")
    assert change_own_password(here, DEMO_PASSWORDS["resident"][0], "short").status_code == 200
    mismatch = here.post(
        "/account/password",
        data={
            "current_password": DEMO_PASSWORDS["resident"][0],
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 200
    assert resident().check_password(DEMO_PASSWORDS["resident"][0])


def test_changing_a_password_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- users set-password (the command line) ----------------------------------------------------------


def test_users_set_password_ends_every_session_and_token(app, demo, runner):
    browser = log_in(app, "resident", remember=True)
    remember_only = copy_of(app, browser, "remember_token")
    token = token_for(browser, "resident")
    result = runner.invoke(args=["users", "set-password", "resident", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "resident" in result.output
    assert not logged_in(browser) and not logged_in(remember_only) and not token_works(browser, token)
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == resident().id)) is None
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == resident().id)) is None
    assert resident().check_password(NEW_PASSWORD)


def test_users_set_password_asks_for_the_password_twice_when_it_is_left_out(app, demo, runner):
    result = runner.invoke(
        args=["users", "set-password", "resident"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # typed without echo
    assert resident().check_password(NEW_PASSWORD)


def test_users_set_password_refuses_an_unknown_user_and_a_short_password(app, demo, runner):
    browser = log_in(app, "resident")
    unknown = runner.invoke(args=["users", "set-password", "nobody", "--password", NEW_PASSWORD])
    assert unknown.exit_code != 0 and "nobody" in unknown.output
    short = runner.invoke(args=["users", "set-password", "resident", "--password", "short"])
    assert short.exit_code != 0 and "8" in short.output
    assert resident().check_password(DEMO_PASSWORDS["resident"][0])
    assert logged_in(browser)  # a refused change ends nothing


def test_the_hourly_cleanup_removes_expired_sessions_and_tokens_only(app, demo):
    from app.jobs.scheduler import run_periodic

    stale, live = log_in(app, "resident"), log_in(app, "member")
    token_for(stale, "resident")
    token_for(live, "member")
    gone = select(User.id).where(User.username == "resident").scalar_subquery()
    for table in (LoginSession, ApiToken):
        db.session.execute(
            update(table).where(table.user_id == gone).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    db.session.commit()
    assert run_periodic("access_cleanup") == "access_cleanup: 2"
    assert db.session.scalar(select(LoginSession.id).where(LoginSession.user_id == gone)) is None
    assert logged_in(live) and not logged_in(stale)
    assert run_periodic("access_cleanup") == "access_cleanup: 0"


def test_a_request_without_a_session_cookie_opens_its_empty_session_without_a_signer(app, demo, monkeypatch):
    from flask.sessions import SecureCookieSessionInterface

    signers = []
    made = SecureCookieSessionInterface.get_signing_serializer
    monkeypatch.setattr(
        SecureCookieSessionInterface,
        "get_signing_serializer",
        lambda self, app_: signers.append(1) or made(self, app_),
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert signers == []  # nothing to check, nothing stored
    # a session that is written and read back still is, signed
    logged = log_in(app, "resident")
    signers.clear()
    assert logged_in(logged) and signers  # the cookie came back and was checked
    forged = app.test_client()
    forged.set_cookie("session", logged.get_cookie("session").value[:-4] + "AAAA")
    assert not logged_in(forged)
