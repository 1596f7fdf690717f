"""All models, importable from one place (Alembic and the app factory load this)."""

from app.models.accounts import ApiToken, AuditLog, LoginSession, User
from app.models.area import Area
from app.models.badges import Badge, Printout
from app.models.callbacks import CallbackTask
from app.models.callups import Callup, CallupResponse
from app.models.census import Building, Compound, Enterprise, Facility, Household, Resident, Room
from app.models.certificates import Certificate, HonourBatch
from app.models.coverage import UnitCoverage
from app.models.events import Campaign, Dispatch, Event, EventFeedback, EventStep, Supervision
from app.models.files import Attachment, StoredFile
from app.models.idempotency import IdempotentRequest
from app.models.jobs import OutboxMessage
from app.models.matters import Department, Matter, SlaPolicy
from app.models.meetings import JointMeeting, ServiceItem
from app.models.notifications import Notification, NotificationPreference
from app.models.party import Member, PartyOrg, Pledge, Unit
from app.models.teams import GridRole, TeamPerson
from app.models.visits import HouseholdAssignment, HouseholdVisit, UnitActivity
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.wishes import Wish, WishCategory, WishStep
from app.models.worklogs import PrintedSheet, WorkLog, WorkRecord

__all__ = [
    "ApiToken",
    "Area",
    "Attachment",
    "AuditLog",
    "Badge",
    "Building",
    "CallbackTask",
    "Callup",
    "CallupResponse",
    "Campaign",
    "Certificate",
    "Compound",
    "Department",
    "Dispatch",
    "Enterprise",
    "Event",
    "EventFeedback",
    "EventStep",
    "Facility",
    "GridRole",
    "HonourBatch",
    "Household",
    "HouseholdAssignment",
    "HouseholdVisit",
    "IdempotentRequest",
    "JointMeeting",
    "LoginSession",
    "Matter",
    "Member",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "PartyOrg",
    "Pledge",
    "PrintedSheet",
    "Printout",
    "Resident",
    "Room",
    "ServiceItem",
    "SlaPolicy",
    "StoredFile",
    "Supervision",
    "TeamPerson",
    "Unit",
    "UnitActivity",
    "UnitCoverage",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Wish",
    "WishCategory",
    "WishStep",
    "WorkLog",
    "WorkRecord",
]
