"""What a client may state it expects before acting (`expected_status`): acting on a record that moved on is refused."""

from flask_babel import gettext as _

from app.services.errors import Conflict


def expect_status(subject, expected: str | None) -> None:
    """Conflict `status_mismatch`, naming the current status, unless `subject` is in the `expected` status.

    The engine calls it before every step (`workflow.perform`), on `subject` as read in the transaction that acts:
    an offline client's action, queued while the record moved on, is refused rather than applied to a state its
    user never saw.
    """
    if expected is not None and subject.status != expected:
        raise Conflict(
            _(
                "The status is %(current)s now, not %(expected)s as expected; nothing was done.",
                expected=expected,
                current=subject.status,
            ),
            code="status_mismatch",
        )
