"""Events (一网统管, docs/workflows.md#events): matters, statuses, levels, sources, dispatches, deadlines, steps."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = [
    "DISPATCH_STATUS_LABELS",
    "EVENT_ACTION_LABELS",
    "EVENT_LEVEL_LABELS",
    "EVENT_SOURCE_LABELS",
    "EVENT_STATUS_LABELS",
    "MATTER_CATEGORY_LABELS",
    "OPEN_EVENT_STATUSES",
    "SLA_DEADLINE_LABELS",
    "DispatchStatus",
    "EventAction",
    "EventLevel",
    "EventSource",
    "EventStatus",
    "MatterCategory",
    "SlaDeadline",
]


class MatterCategory(Labelled):
    STABILITY = "stability", _l("Social stability")
    PETITION = "petition", _l("Petitions")
    ENVIRONMENT = "environment", _l("Environment")
    WORK_SAFETY = "work_safety", _l("Work safety")
    SANITATION = "sanitation", _l("Sanitation")
    PROPERTY = "property", _l("Property management")
    CIVIL_AFFAIRS = "civil_affairs", _l("Civil affairs")
    URBAN_MANAGEMENT = "urban_management", _l("Urban management")
    OTHER = "other", _l("Other")


MATTER_CATEGORY_LABELS = MatterCategory.labels()


class EventStatus(Labelled):
    REPORTED = "reported", _l("Reported")
    ACCEPTED = "accepted", _l("Accepted")
    IN_PROGRESS = "in_progress", _l("In progress")
    RESOLVED = "resolved", _l("Resolved, awaiting verification")
    VERIFIED = "verified", _l("Verified, awaiting callback")
    CLOSED = "closed", _l("Closed")
    ARCHIVED = "archived", _l("Archived")
    WITHDRAWN = "withdrawn", _l("Withdrawn by the reporter")


EVENT_STATUS_LABELS = EventStatus.labels()

# still being worked on: the resolve deadline runs
OPEN_EVENT_STATUSES = (EventStatus.REPORTED, EventStatus.ACCEPTED, EventStatus.IN_PROGRESS)


class EventLevel(Labelled):
    GRID = "grid", _l("Grid")
    COMMUNITY = "community", _l("Community")
    STREET = "street", _l("Street")
    DEPARTMENT = "department", _l("Departments")
    DISTRICT = "district", _l("District")


EVENT_LEVEL_LABELS = EventLevel.labels()


class EventSource(Labelled):
    PATROL = "patrol", _l("Grid patrol")
    RESIDENT = "resident", _l("Resident")
    HOTLINE = "hotline", _l("12345 hotline")
    E_PATROL = "e_patrol", _l("Electronic patrol")
    DEPARTMENT = "department", _l("Department")


EVENT_SOURCE_LABELS = EventSource.labels()


class DispatchStatus(Labelled):
    PENDING = "pending", _l("Awaiting the department")
    ANSWERED = "answered", _l("Answered")
    DONE = "done", _l("Done")


DISPATCH_STATUS_LABELS = DispatchStatus.labels()


class SlaDeadline(Labelled):
    RESPOND = "respond", _l("Respond")
    REPLY = "reply", _l("Reply")
    RESOLVE = "resolve", _l("Resolve")


SLA_DEADLINE_LABELS = SlaDeadline.labels()


class EventAction(Labelled):
    REPORT = "report", _l("Reported")
    ACCEPT = "accept", _l("Accepted")
    START = "start", _l("Work started")
    ESCALATE = "escalate", _l("Escalated")
    AUTO_ESCALATE = "auto_escalate", _l("Escalated for being overdue")
    DISPATCH = "dispatch", _l("Dispatched to departments")
    ANSWER = "answer", _l("Department answered")
    RESOLVE = "resolve", _l("Resolved")
    VERIFY = "verify", _l("Verified")
    VERIFY_FAIL = "verify_fail", _l("Sent back after verification")
    CLOSE = "close", _l("Closed after the callback")
    REOPEN = "reopen", _l("Reopened after the callback")
    ARCHIVE = "archive", _l("Archived")
    WITHDRAW = "withdraw", _l("Withdrawn by the reporter")
    NOT_FIXED = "not_fixed", _l("Reopened: the reporter says it is not fixed")


EVENT_ACTION_LABELS = EventAction.labels()
