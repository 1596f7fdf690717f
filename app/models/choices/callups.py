"""Emergency call-ups (社区吹哨、党员报到): a call-up's status, a member's answer, how an arrival was recorded."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = [
    "ARRIVAL_VIA_LABELS",
    "CALLUP_ANSWER_LABELS",
    "CALLUP_STATUS_LABELS",
    "ArrivalVia",
    "CallupAnswer",
    "CallupStatus",
]


class CallupStatus(Labelled):
    OPEN = "open", _l("Call-up open")
    CLOSED = "closed", _l("Call-up closed")
    CANCELLED = "cancelled", _l("Call-up cancelled")


CALLUP_STATUS_LABELS = CallupStatus.labels()


class CallupAnswer(Labelled):
    COMING = "coming", _l("Coming")
    CANNOT = "cannot", _l("Cannot come")


CALLUP_ANSWER_LABELS = CallupAnswer.labels()


class ArrivalVia(Labelled):
    QR = "qr", _l("Scanned the QR code")
    STAFF = "staff", _l("Marked by staff")


ARRIVAL_VIA_LABELS = ArrivalVia.labels()
