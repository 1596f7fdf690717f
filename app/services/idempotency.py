"""Idempotency keys: a request sent again under the same key gets its first answer, and acts only once.

The rule follows the IETF draft "The Idempotency-Key HTTP Header Field": a key belongs to one user; the first
request under it is answered and the answer kept (IDEMPOTENCY_TTL_HOURS, 24 by default); the same request again
gets that answer without acting; the key sent with another request (method, path or body) is refused. The row
is inserted before the request acts and committed with its change and its answer (`reserve`, then `record`), so
a crash leaves neither, and the unique (user, key) makes a concurrent twin wait for the first and replay it.
"""

import hashlib
import json
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import aware, utcnow
from app.models.idempotency import IdempotentRequest
from app.services.errors import DomainError

ATTEMPTS = 3  # a twin that keeps failing (and so frees the key) is waited for this often, then refused


class KeyReused(DomainError):
    """The key was first sent with another request: HTTP 422, as the draft says."""

    status = 422
    code = "idempotency_key_reused"

    def __init__(self, key: str):
        super().__init__(
            _("This Idempotency-Key was first sent with another request; use a new key for a new request.")
        )
        self.key = key


class KeyBusy(DomainError):
    """Concurrent requests under the key keep failing; the client should try again: HTTP 409."""

    status = 409
    code = "idempotency_in_progress"

    def __init__(self, key: str):
        super().__init__(_("A request with this Idempotency-Key is being processed; try again shortly."))
        self.key = key


def ttl() -> timedelta:
    """How long a key and its answer are kept."""
    return timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])


def fingerprint(method: str, path: str, body) -> str:
    """SHA-256 of the request as the API understood it (its parsed body, so spacing and key order do not count)."""
    canonical = json.dumps([method, path, body], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def reserve(
    user_id: int, key: str, method: str, path: str, print_: str, now: datetime | None = None
) -> IdempotentRequest:
    """The row of `key`: the one stored within the TTL (its answer to replay), or a new one, flushed, not committed.

    Call it before the request writes anything: when a concurrent first request holds the key, the insert waits
    for it, and the transaction is rolled back to read its answer. Raises KeyReused when the key was first sent
    with another request, KeyBusy when the key's holders keep failing.
    """
    now = now or utcnow()
    key_hash = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    for _attempt in range(ATTEMPTS):
        row = db.session.scalar(
            select(IdempotentRequest).where(
                IdempotentRequest.user_id == user_id, IdempotentRequest.key_hash == key_hash
            )
        )
        if row is not None and aware(row.created_at) <= now - ttl():
            # expired: free the key; conditional, so of two requests reviving it one deletes and the other replays
            db.session.execute(
                delete(IdempotentRequest)
                .where(
                    IdempotentRequest.id == row.id,
                    IdempotentRequest.created_at <= now - ttl(),
                )
                .execution_options(synchronize_session=False)
            )
            db.session.expunge(row)
            row = None
        if row is not None:
            if row.fingerprint != print_:
                raise KeyReused(key)
            return row
        row = IdempotentRequest(
            user_id=user_id, key_hash=key_hash, method=method, path=path, fingerprint=print_, created_at=now
        )
        db.session.add(row)
        try:
            db.session.flush()
            return row
        except IntegrityError:  # a twin was first: it has committed (or failed) by now
            db.session.rollback()
    raise KeyBusy(key)


def record(row: IdempotentRequest, status_code: int, body: str) -> None:
    """Keep the answer a reserved request got; it is committed with the request's change. Never commits."""
    row.status_code = status_code
    row.response_body = body
    db.session.flush()


def remove_expired(now: datetime | None = None) -> int:
    """Delete every key older than the TTL; how many. Never commits."""
    cutoff = (now or utcnow()) - ttl()
    return db.session.execute(
        delete(IdempotentRequest)
        .where(IdempotentRequest.created_at <= cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
