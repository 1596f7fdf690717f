"""The back office: Flask-Admin views built per app, scoped per user, Chinese by default."""

import os

from flask import Flask, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from app import PROJECT_ROOT
from app.extensions import db
from app.models import (
    Area,
    AuditLog,
    Building,
    Compound,
    Department,
    Enterprise,
    Facility,
    GridRole,
    Household,
    Matter,
    Member,
    PartyOrg,
    Pledge,
    Resident,
    Room,
    SlaPolicy,
    TeamPerson,
    Unit,
    UnitCoverage,
    User,
    Wish,
    WishCategory,
)
from app.models.badges import Badge, Printout
from app.models.callbacks import CallbackTask
from app.models.certificates import Certificate, HonourBatch
from app.models.events import Campaign, Event, Supervision
from app.origin import audit_requests
from app.security import csp_nonce


def init_admin(app: Flask) -> Admin:
    """Build the Admin object and its views for this app (tests build many apps)."""
    from admin.base import HomeView
    from admin.views.areas import AreaAdmin
    from admin.views.callbacks import CallbackAdmin
    from admin.views.census import (
        BuildingAdmin,
        CompoundAdmin,
        EnterpriseAdmin,
        FacilityAdmin,
        HouseholdAdmin,
        ResidentAdmin,
        RoomAdmin,
    )
    from admin.views.certificates import CertificateAdmin, HonourBatchAdmin
    from admin.views.events import EventAdmin, EventQueueAdmin
    from admin.views.operations import OperationsView
    from admin.views.oversight import CampaignAdmin, SupervisionAdmin
    from admin.views.party import MemberAdmin, PartyOrgAdmin, PledgeAdmin, UnitAdmin
    from admin.views.reference import DepartmentAdmin, MatterAdmin, SlaPolicyAdmin
    from admin.views.system import AuditLogAdmin, UserAdmin
    from admin.views.team import GridRoleAdmin, TeamPersonAdmin
    from admin.views.webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin
    from admin.views.wishes import WishAdmin, WishCategoryAdmin, WishReviewAdmin
    from app.models.webhooks import WebhookDelivery, WebhookEndpoint

    admin = Admin(
        app,
        name="OneGrid 网格通",
        index_view=HomeView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/onegrid_base.html", fluid=True),
        # fills the gaps in Flask-Admin's own Chinese catalogue
        translations_path=os.path.join(PROJECT_ROOT, "translations", "admin"),
        csp_nonce_generator=csp_nonce,  # Flask-Admin's own <script> tags carry the request's nonce
    )
    areas, census, party, wishes, reference, system = (
        _l("Areas"),
        _l("People & places"),
        _l("Party & check-in"),
        _l("Micro-wishes"),
        _l("Matters"),
        _l("System"),
    )
    from admin.views.notifications import NotificationsView

    admin.add_view(NotificationsView(name=_l("Notifications"), endpoint="my_notifications"))
    admin.add_view(AreaAdmin(Area, db, name=_l("Areas & grids"), category=areas))
    from admin.views.gridmap import GridMapView  # also serves admin/static (ECharts, the dashboard's scripts)

    admin.add_view(GridMapView(name=_l("Grid map"), category=areas, endpoint="grid_map"))
    for view, model, name in [
        (ResidentAdmin, Resident, _l("Residents")),
        (HouseholdAdmin, Household, _l("Households")),
        (CompoundAdmin, Compound, _l("Compounds")),
        (BuildingAdmin, Building, _l("Buildings")),
        (RoomAdmin, Room, _l("Rooms")),
        (EnterpriseAdmin, Enterprise, _l("Enterprises")),
        (FacilityAdmin, Facility, _l("Facilities")),
    ]:
        admin.add_view(view(model, db, name=name, category=census))
    from admin.views.imports import (
        ResidentImportView,
    )  # after the census views: it sits under them in the menu

    admin.add_view(
        ResidentImportView(name=_l("Import residents"), category=census, endpoint="resident_import")
    )
    for view, model, name in [
        (GridRoleAdmin, GridRole, _l("Grid teams")),
        (TeamPersonAdmin, TeamPerson, _l("Team people")),
        (PartyOrgAdmin, PartyOrg, _l("Party organisations")),
        (UnitAdmin, Unit, _l("Check-in units")),
        (PledgeAdmin, Pledge, _l("Pledges")),
        (MemberAdmin, Member, _l("Checked-in members")),
    ]:
        admin.add_view(view(model, db, name=name, category=party))
    from admin.views.coverage import CoverageImportView, UnitCoverageAdmin

    admin.add_view(UnitCoverageAdmin(UnitCoverage, db, name=_l("Coverage (包抓)"), category=party))
    admin.add_view(CoverageImportView(name=_l("Import coverage"), category=party, endpoint="coverage_import"))
    from admin.views.badges import BadgeAdmin, PrintoutAdmin

    admin.add_view(BadgeAdmin(Badge, db, name=_l("Work badges"), category=party, endpoint="badge"))
    admin.add_view(
        PrintoutAdmin(Printout, db, name=_l("Station printouts"), category=party, endpoint="printout")
    )
    from admin.views.compliance import ComplianceView
    from admin.views.responsibility_import import ResponsibilityImportView
    from admin.views.visits import HouseholdAssignmentAdmin, HouseholdVisitAdmin, UnitActivityAdmin
    from app.models.visits import HouseholdAssignment, HouseholdVisit, UnitActivity

    admin.add_view(
        HouseholdAssignmentAdmin(
            HouseholdAssignment, db, name=_l("责任田"), category=party, endpoint="household_assignment"
        )
    )
    admin.add_view(
        ResponsibilityImportView(name=_l("Import 责任田"), category=party, endpoint="responsibility_import")
    )
    admin.add_view(
        HouseholdVisitAdmin(
            HouseholdVisit, db, name=_l("Household visits"), category=party, endpoint="household_visit"
        )
    )
    admin.add_view(
        UnitActivityAdmin(
            UnitActivity, db, name=_l("Unit activities"), category=party, endpoint="unit_activity"
        )
    )
    admin.add_view(ComplianceView(name=_l("Visits compliance"), category=party, endpoint="compliance"))
    admin.add_view(
        WishReviewAdmin(Wish, db, name=_l("Review queue"), category=wishes, endpoint="wish_review")
    )
    admin.add_view(WishAdmin(Wish, db, name=_l("All wishes"), category=wishes))
    admin.add_view(WishCategoryAdmin(WishCategory, db, name=_l("Wish categories"), category=wishes))
    events = _l("Events")
    admin.add_view(EventQueueAdmin(Event, db, name=_l("My queue"), category=events, endpoint="event_queue"))
    admin.add_view(EventAdmin(Event, db, name=_l("All events"), category=events, endpoint="event"))
    admin.add_view(
        SupervisionAdmin(
            Supervision, db, name=_l("Supervision notices"), category=events, endpoint="supervision"
        )
    )
    admin.add_view(CampaignAdmin(Campaign, db, name=_l("Campaigns"), category=events))
    from admin.views.callups import add_views as add_callup_views
    from admin.views.meetings import add_views as add_meeting_views
    from admin.views.worklogs import add_views as add_worklog_views

    add_callup_views(admin)
    add_meeting_views(admin)
    add_worklog_views(admin)
    certificates = _l("Certificates")
    admin.add_view(CertificateAdmin(Certificate, db, name=_l("All certificates"), category=certificates))
    admin.add_view(HonourBatchAdmin(HonourBatch, db, name=_l("Honour batches"), category=certificates))
    admin.add_view(
        CallbackAdmin(CallbackTask, db, name=_l("Callbacks"), category=wishes, endpoint="callback")
    )
    for view, model, name in [
        (MatterAdmin, Matter, _l("Matter list")),
        (DepartmentAdmin, Department, _l("Departments")),
        (SlaPolicyAdmin, SlaPolicy, _l("SLA policies")),
    ]:
        admin.add_view(view(model, db, name=name, category=reference))
    admin.add_view(UserAdmin(User, db, name=_l("Users"), category=system))
    admin.add_view(AuditLogAdmin(AuditLog, db, name=_l("Audit log"), category=system))
    admin.add_view(OperationsView(name=_l("Operations"), category=system, endpoint="operations"))
    integrations = _l("Integrations")
    admin.add_view(
        WebhookEndpointAdmin(WebhookEndpoint, db, name=_l("Webhook endpoints"), category=integrations)
    )
    admin.add_view(
        WebhookDeliveryAdmin(WebhookDelivery, db, name=_l("Webhook deliveries"), category=integrations)
    )
    audit_requests(
        app, "admin", lambda: request.path == admin.url or request.path.startswith(admin.url + "/")
    )
    return admin
