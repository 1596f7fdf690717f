"""The one refusal hierarchy of the domain services: conflict, forbidden, invalid, not found (and too many).

Every interface maps a `DomainError` once, by its `status`, `code` and `message` (the API's
`commit_or_abort`, the back office's `run_step`, the site's pages); services raise nothing else
for a refusal the user should read.
Refusals particular to one service are kinds of it too (CertificateError, UserError, WebhookError,
PeriodError, TooManyFailedLogins, the idempotency keys' KeyReused and KeyBusy), so a caller that does not
handle them specially still maps them.
"""


class DomainError(Exception):
    """An action was refused; `message` says why, for the person who tried."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Conflict(DomainError):
    """The subject is not in a state (or at a level) that allows the action: HTTP 409."""

    status = 409
    code = "state_conflict"


class Forbidden(DomainError):
    """This user may not take this action on this subject: HTTP 403."""

    status = 403
    code = "forbidden"


class Invalid(DomainError):
    """The values given do not pass validation; `errors` maps field names to messages: HTTP 422."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class NotFound(DomainError):
    """The subject does not exist, or the user may not see it: HTTP 404."""

    status = 404
    code = "not_found"


class Limited(DomainError):
    """Too many requests in a short time: HTTP 429; another is accepted in `retry_after` seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int, code: str | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after
