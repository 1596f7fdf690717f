"""Bearer-token authentication: the token endpoint and the decorator guarding every other endpoint."""

from functools import wraps

import marshmallow as ma
from flask import g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from app.api import api_blueprint
from app.api.errors import api_abort
from app.auth import login_rate_limit, login_rate_limit_off
from app.extensions import db, limiter
from app.models import User
from app.services.login_limits import TooManyFailedLogins, check_credentials
from app.services.tokens import issue_token, user_for_token
from app.services.users import MAX_PASSWORD_LENGTH

bp = api_blueprint("auth", __name__, "Bearer tokens for API clients.")


class TokenRequestSchema(ma.Schema):
    """A user's credentials."""

    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class TokenSchema(ma.Schema):
    """A bearer token and the moment it stops working."""

    token = ma.fields.String(
        required=True, metadata={"description": "send as `Authorization: Bearer <token>`"}
    )
    expires_at = ma.fields.DateTime(required=True, metadata={"description": "ISO 8601, UTC"})


@bp.route("/auth/token", methods=["POST"])
@limiter.limit(login_rate_limit, exempt_when=login_rate_limit_off)
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[])
def create_token(credentials):
    """Exchange a username and password for a bearer token.

    After a few wrong passwords for one account (from any address) its requests are refused for a while:
    429, with `Retry-After` in seconds.
    """
    try:
        user = check_credentials(credentials["username"], credentials["password"])
    except TooManyFailedLogins as exc:
        api_abort(exc.status, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)})
    if user is None:
        api_abort(401, "invalid_credentials", _("Wrong username or password, or the account is disabled."))
    raw, expires_at = issue_token(user)
    db.session.commit()
    return {"token": raw, "expires_at": expires_at}


def token_required(*roles: str):
    """View decorator: a valid bearer token is needed (else 401), and one of `roles` when given (else 403).

    Put it right under `@bp.route`, so a caller without a token learns nothing from validation.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            raw = _bearer_token()
            if raw is None:
                api_abort(
                    401,
                    "missing_token",
                    _("Send a bearer token: Authorization: Bearer <token>."),
                    headers={"WWW-Authenticate": "Bearer"},
                )
            user = user_for_token(raw)
            if user is None:
                api_abort(
                    401,
                    "invalid_token",
                    _("The bearer token is unknown or has expired."),
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            if roles and user.role not in roles:
                api_abort(403, "forbidden", _("Your role may not use this endpoint."))
            g.api_user = user
            return view(*args, **kwargs)

        responses = {"401": "UNAUTHORIZED", **({"403": "FORBIDDEN"} if roles else {})}
        return Blueprint.doc(security=[{"bearerAuth": []}], responses=responses)(wrapped)

    return decorator


def current_api_user() -> User:
    """The user whose token authenticated the current request (inside `token_required` views)."""
    return g.api_user


def _bearer_token() -> str | None:
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    return raw if scheme.lower() == "bearer" and raw else None
