"""Where a request's changes come from: each interface marks its requests with its audit channel."""

from collections.abc import Callable

from flask import g, request

from app.services import audit


def audit_requests(target, channel: str, applies: Callable[[], bool] = lambda: True) -> None:
    """Audit what the requests of `target` (an app or a blueprint) change as made through `channel`, from the
    client's address (behind TRUSTED_PROXIES, the one ProxyFix found); `applies` narrows an app's requests."""

    def begin() -> None:
        if applies():
            g.audit_token = audit.enter(channel, request.remote_addr)

    def end(_error) -> None:
        token = g.pop("audit_token", None)
        if token is not None:
            audit.leave(token)

    target.before_request(begin)
    target.teardown_request(end)
