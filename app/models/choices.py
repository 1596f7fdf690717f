"""Closed vocabularies of the domain, with their display labels."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint


class AreaLevel(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


AREA_LEVEL_LABELS = {
    AreaLevel.DISTRICT: _l("District"),
    AreaLevel.STREET: _l("Street"),
    AreaLevel.COMMUNITY: _l("Community"),
    AreaLevel.GRID: _l("Grid"),
}
# digits in a full area code at each level: 6, then +3 per level
AREA_CODE_LENGTH = {
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}
AREA_PARENT_LEVEL = {
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
}


class Role(StrEnum):
    ADMIN = "admin"
    STREET_ADMIN = "street_admin"
    COMMUNITY_ADMIN = "community_admin"
    GRID_WORKER = "grid_worker"
    DEPARTMENT = "department"
    MEMBER = "member"
    RESIDENT = "resident"
    INTEGRATION = "integration"


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STREET_ADMIN: _l("Street staff"),
    Role.COMMUNITY_ADMIN: _l("Community staff"),
    Role.GRID_WORKER: _l("Grid worker"),
    Role.DEPARTMENT: _l("Functional department"),
    Role.MEMBER: _l("Checked-in member"),
    Role.RESIDENT: _l("Resident"),
    Role.INTEGRATION: _l("Integration (API client)"),
}
# the area level a scoped role is bound to
ROLE_AREA_LEVEL = {
    Role.STREET_ADMIN: AreaLevel.STREET,
    Role.COMMUNITY_ADMIN: AreaLevel.COMMUNITY,
    Role.GRID_WORKER: AreaLevel.GRID,
    Role.MEMBER: AreaLevel.GRID,
    Role.RESIDENT: AreaLevel.GRID,
}
STAFF_ROLES = (Role.ADMIN, Role.STREET_ADMIN, Role.COMMUNITY_ADMIN, Role.GRID_WORKER)
BACK_OFFICE_ROLES = STAFF_ROLES + (Role.DEPARTMENT,)


class CareTier(StrEnum):
    ASSURED = "assured"
    WARM = "warm"
    CLOSE = "close"


CARE_TIER_LABELS = {
    CareTier.ASSURED: _l("Assured (放心户)"),
    CareTier.WARM: _l("Warm-care (暖心户)"),
    CareTier.CLOSE: _l("Close-care (连心户)"),
}


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


GENDER_LABELS = {Gender.MALE: _l("Male"), Gender.FEMALE: _l("Female")}


class ResidenceType(StrEnum):
    REGISTERED = "registered"
    FLOATING = "floating"


RESIDENCE_TYPE_LABELS = {
    ResidenceType.REGISTERED: _l("Registered"),
    ResidenceType.FLOATING: _l("Floating"),
}

RESIDENT_TAG_LABELS = {
    "elderly_alone": _l("Elderly living alone"),
    "subsistence": _l("Subsistence allowance"),
    "disabled": _l("Disabled"),
    "veteran": _l("Veteran"),
    "left_behind_child": _l("Left-behind child"),
    "party_member": _l("Party member"),
    "focus": _l("Key person"),
}


class PartyOrgLevel(StrEnum):
    STREET_COMMITTEE = "street_committee"
    COMMUNITY_ORG = "community_org"
    GRID_BRANCH = "grid_branch"
    BUILDING_GROUP = "building_group"


PARTY_ORG_LEVEL_LABELS = {
    PartyOrgLevel.STREET_COMMITTEE: _l("Street working committee"),
    PartyOrgLevel.COMMUNITY_ORG: _l("Community party organisation"),
    PartyOrgLevel.GRID_BRANCH: _l("Grid party branch"),
    PartyOrgLevel.BUILDING_GROUP: _l("Building party group"),
}
PARTY_ORG_PARENT_LEVEL = {
    PartyOrgLevel.COMMUNITY_ORG: PartyOrgLevel.STREET_COMMITTEE,
    PartyOrgLevel.GRID_BRANCH: PartyOrgLevel.COMMUNITY_ORG,
    PartyOrgLevel.BUILDING_GROUP: PartyOrgLevel.GRID_BRANCH,
}


class PledgeStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"
    LAPSED = "lapsed"


PLEDGE_STATUS_LABELS = {
    PledgeStatus.PLANNED: _l("Planned"),
    PledgeStatus.IN_PROGRESS: _l("In progress"),
    PledgeStatus.FULFILLED: _l("Fulfilled"),
    PledgeStatus.LAPSED: _l("Lapsed"),
}

MEMBER_DUTY_LABELS = {
    "info_collector": _l("Information collector"),
    "opinion_collector": _l("Opinion collector"),
    "hazard_checker": _l("Hazard checker"),
    "policy_promoter": _l("Policy promoter"),
    "livelihood_helper": _l("Livelihood helper"),
}


class GridRoleKind(StrEnum):
    VANGUARD_CAPTAIN = "vanguard_captain"
    GRID_LEADER = "grid_leader"
    DEPUTY_LEADER = "deputy_leader"
    LIAISON = "liaison"
    LEGAL_ADVISER = "legal_adviser"
    GRID_WORKER = "grid_worker"
    BUILDING_HEAD = "building_head"
    RED_STEWARD = "red_steward"


GRID_ROLE_LABELS = {
    GridRoleKind.VANGUARD_CAPTAIN: _l("Vanguard captain"),
    GridRoleKind.GRID_LEADER: _l("Grid leader"),
    GridRoleKind.DEPUTY_LEADER: _l("Deputy grid leader (police)"),
    GridRoleKind.LIAISON: _l("Liaison"),
    GridRoleKind.LEGAL_ADVISER: _l("Legal adviser"),
    GridRoleKind.GRID_WORKER: _l("Full-time grid worker"),
    GridRoleKind.BUILDING_HEAD: _l("Building head"),
    GridRoleKind.RED_STEWARD: _l("Red steward"),
}
# the "five-for-one" team: one of each per grid
SINGLE_GRID_ROLES = (
    GridRoleKind.VANGUARD_CAPTAIN,
    GridRoleKind.GRID_LEADER,
    GridRoleKind.DEPUTY_LEADER,
    GridRoleKind.LIAISON,
    GridRoleKind.LEGAL_ADVISER,
)


class MatterCategory(StrEnum):
    STABILITY = "stability"
    PETITION = "petition"
    ENVIRONMENT = "environment"
    WORK_SAFETY = "work_safety"
    SANITATION = "sanitation"
    PROPERTY = "property"
    CIVIL_AFFAIRS = "civil_affairs"
    URBAN_MANAGEMENT = "urban_management"
    OTHER = "other"


MATTER_CATEGORY_LABELS = {
    MatterCategory.STABILITY: _l("Social stability"),
    MatterCategory.PETITION: _l("Petitions"),
    MatterCategory.ENVIRONMENT: _l("Environment"),
    MatterCategory.WORK_SAFETY: _l("Work safety"),
    MatterCategory.SANITATION: _l("Sanitation"),
    MatterCategory.PROPERTY: _l("Property management"),
    MatterCategory.CIVIL_AFFAIRS: _l("Civil affairs"),
    MatterCategory.URBAN_MANAGEMENT: _l("Urban management"),
    MatterCategory.OTHER: _l("Other"),
}


class FacilityStatus(StrEnum):
    NORMAL = "normal"
    DAMAGED = "damaged"
    REMOVED = "removed"


FACILITY_STATUS_LABELS = {
    FacilityStatus.NORMAL: _l("Normal"),
    FacilityStatus.DAMAGED: _l("Damaged"),
    FacilityStatus.REMOVED: _l("Removed"),
}

FACILITY_CATEGORY_LABELS = {
    "manhole": _l("Manhole cover"),
    "street_light": _l("Street light"),
    "hydrant": _l("Fire hydrant"),
    "camera": _l("Surveillance camera"),
    "trash_bin": _l("Trash bin"),
    "bus_stop": _l("Bus stop"),
    "charging_pile": _l("E-bike charging point"),
    "other": _l("Other"),
}


def choice_check(column: str, values) -> CheckConstraint:
    """A check constraint that keeps `column` inside a closed vocabulary."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


def choices(labels: dict) -> list[tuple[str, object]]:
    """(value, label) pairs for a select field."""
    return [(str(k), v) for k, v in labels.items()]


class WishStatus(StrEnum):
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CLAIMED = "claimed"
    DONE = "done"
    CONFIRMED = "confirmed"


WISH_STATUS_LABELS = {
    WishStatus.SUBMITTED: _l("Awaiting review"),
    WishStatus.PUBLISHED: _l("Published"),
    WishStatus.REJECTED: _l("Rejected"),
    WishStatus.CANCELLED: _l("Cancelled"),
    WishStatus.CLAIMED: _l("Claimed"),
    WishStatus.DONE: _l("Done, awaiting confirmation"),
    WishStatus.CONFIRMED: _l("Confirmed"),
}
# what anyone may see on the public board and a wish's public page
PUBLIC_WISH_STATUSES = (WishStatus.PUBLISHED, WishStatus.CLAIMED, WishStatus.DONE, WishStatus.CONFIRMED)


class Rating(StrEnum):
    GOOD = "good"
    AVERAGE = "average"
    POOR = "poor"


RATING_LABELS = {Rating.GOOD: _l("Good"), Rating.AVERAGE: _l("Average"), Rating.POOR: _l("Poor")}


class WishAction(StrEnum):
    POST = "post"
    PUBLISH = "publish"
    REJECT = "reject"
    CANCEL = "cancel"
    CLAIM = "claim"
    RELEASE = "release"
    COMPLETE = "complete"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    AUTO_CONFIRM = "auto_confirm"
    REOPEN = "reopen"


WISH_ACTION_LABELS = {
    WishAction.POST: _l("Posted"),
    WishAction.PUBLISH: _l("Published"),
    WishAction.REJECT: _l("Rejected"),
    WishAction.CANCEL: _l("Cancelled"),
    WishAction.CLAIM: _l("Claimed"),
    WishAction.RELEASE: _l("Released"),
    WishAction.COMPLETE: _l("Completed"),
    WishAction.CONFIRM: _l("Confirmed"),
    WishAction.DISPUTE: _l("Disputed"),
    WishAction.AUTO_CONFIRM: _l("Confirmed automatically"),
    WishAction.REOPEN: _l("Reopened after the callback"),
}


# --- events (一网统管, docs/workflows.md#events) ----------------------------------------------------------
class EventStatus(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    ARCHIVED = "archived"


EVENT_STATUS_LABELS = {
    EventStatus.REPORTED: _l("Reported"),
    EventStatus.ACCEPTED: _l("Accepted"),
    EventStatus.IN_PROGRESS: _l("In progress"),
    EventStatus.RESOLVED: _l("Resolved, awaiting verification"),
    EventStatus.VERIFIED: _l("Verified, awaiting callback"),
    EventStatus.CLOSED: _l("Closed"),
    EventStatus.ARCHIVED: _l("Archived"),
}
# still being worked on: the resolve deadline runs
OPEN_EVENT_STATUSES = (EventStatus.REPORTED, EventStatus.ACCEPTED, EventStatus.IN_PROGRESS)


class EventLevel(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DEPARTMENT = "department"
    DISTRICT = "district"


EVENT_LEVEL_LABELS = {
    EventLevel.GRID: _l("Grid"),
    EventLevel.COMMUNITY: _l("Community"),
    EventLevel.STREET: _l("Street"),
    EventLevel.DEPARTMENT: _l("Departments"),
    EventLevel.DISTRICT: _l("District"),
}


class EventSource(StrEnum):
    PATROL = "patrol"
    RESIDENT = "resident"
    HOTLINE = "hotline"
    E_PATROL = "e_patrol"
    DEPARTMENT = "department"


EVENT_SOURCE_LABELS = {
    EventSource.PATROL: _l("Grid patrol"),
    EventSource.RESIDENT: _l("Resident"),
    EventSource.HOTLINE: _l("12345 hotline"),
    EventSource.E_PATROL: _l("Electronic patrol"),
    EventSource.DEPARTMENT: _l("Department"),
}


class DispatchStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    DONE = "done"


DISPATCH_STATUS_LABELS = {
    DispatchStatus.PENDING: _l("Awaiting the department"),
    DispatchStatus.ANSWERED: _l("Answered"),
    DispatchStatus.DONE: _l("Done"),
}


class SlaDeadline(StrEnum):
    RESPOND = "respond"
    REPLY = "reply"
    RESOLVE = "resolve"


SLA_DEADLINE_LABELS = {
    SlaDeadline.RESPOND: _l("Respond"),
    SlaDeadline.REPLY: _l("Reply"),
    SlaDeadline.RESOLVE: _l("Resolve"),
}


class EventAction(StrEnum):
    REPORT = "report"
    ACCEPT = "accept"
    START = "start"
    ESCALATE = "escalate"
    AUTO_ESCALATE = "auto_escalate"
    DISPATCH = "dispatch"
    ANSWER = "answer"
    RESOLVE = "resolve"
    VERIFY = "verify"
    VERIFY_FAIL = "verify_fail"
    CLOSE = "close"
    REOPEN = "reopen"
    ARCHIVE = "archive"


EVENT_ACTION_LABELS = {
    EventAction.REPORT: _l("Reported"),
    EventAction.ACCEPT: _l("Accepted"),
    EventAction.START: _l("Work started"),
    EventAction.ESCALATE: _l("Escalated"),
    EventAction.AUTO_ESCALATE: _l("Escalated for being overdue"),
    EventAction.DISPATCH: _l("Dispatched to departments"),
    EventAction.ANSWER: _l("Department answered"),
    EventAction.RESOLVE: _l("Resolved"),
    EventAction.VERIFY: _l("Verified"),
    EventAction.VERIFY_FAIL: _l("Sent back after verification"),
    EventAction.CLOSE: _l("Closed after the callback"),
    EventAction.REOPEN: _l("Reopened after the callback"),
    EventAction.ARCHIVE: _l("Archived"),
}
