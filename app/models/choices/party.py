"""The vanguard and service circles: party organisations, pledges, members' duties, grid teams."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = [
    "FIVE_FOR_ONE",
    "GRID_ROLE_LABELS",
    "MEMBER_DUTY_LABELS",
    "PARTY_ORG_LEVEL_LABELS",
    "PARTY_ORG_PARENT_LEVEL",
    "PLEDGE_STATUS_LABELS",
    "SINGLE_GRID_ROLES",
    "GridRoleKind",
    "PartyOrgLevel",
    "PledgeStatus",
]


class PartyOrgLevel(Labelled):
    STREET_COMMITTEE = "street_committee", _l("Street working committee")
    COMMUNITY_ORG = "community_org", _l("Community party organisation")
    GRID_BRANCH = "grid_branch", _l("Grid party branch")
    BUILDING_GROUP = "building_group", _l("Building party group")


PARTY_ORG_LEVEL_LABELS = PartyOrgLevel.labels()

PARTY_ORG_PARENT_LEVEL = {
    PartyOrgLevel.COMMUNITY_ORG: PartyOrgLevel.STREET_COMMITTEE,
    PartyOrgLevel.GRID_BRANCH: PartyOrgLevel.COMMUNITY_ORG,
    PartyOrgLevel.BUILDING_GROUP: PartyOrgLevel.GRID_BRANCH,
}


class PledgeStatus(Labelled):
    PLANNED = "planned", _l("Planned")
    IN_PROGRESS = "in_progress", _l("In progress")
    FULFILLED = "fulfilled", _l("Fulfilled")
    LAPSED = "lapsed", _l("Lapsed")


PLEDGE_STATUS_LABELS = PledgeStatus.labels()

MEMBER_DUTY_LABELS = {
    "info_collector": _l("Information collector"),
    "opinion_collector": _l("Opinion collector"),
    "hazard_checker": _l("Hazard checker"),
    "policy_promoter": _l("Policy promoter"),
    "livelihood_helper": _l("Livelihood helper"),
}


class GridRoleKind(Labelled):
    VANGUARD_CAPTAIN = "vanguard_captain", _l("Vanguard captain")
    GRID_LEADER = "grid_leader", _l("Grid leader")
    DEPUTY_LEADER = "deputy_leader", _l("Deputy grid leader (police)")
    LIAISON = "liaison", _l("Liaison")
    LEGAL_ADVISER = "legal_adviser", _l("Legal adviser")
    GRID_WORKER = "grid_worker", _l("Full-time grid worker")
    BUILDING_HEAD = "building_head", _l("Building head")
    RED_STEWARD = "red_steward", _l("Red steward")


GRID_ROLE_LABELS = GridRoleKind.labels()

# the "five-for-one" team (五包一); deputies and legal advisers each serve several grids, liaisons are several
FIVE_FOR_ONE = (
    GridRoleKind.VANGUARD_CAPTAIN,
    GridRoleKind.GRID_LEADER,
    GridRoleKind.DEPUTY_LEADER,
    GridRoleKind.LIAISON,
    GridRoleKind.LEGAL_ADVISER,
)
# the places a grid has exactly one of: the two who sign its work logs and records (双签字)
SINGLE_GRID_ROLES = (GridRoleKind.VANGUARD_CAPTAIN, GridRoleKind.GRID_LEADER)
