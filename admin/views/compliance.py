"""The back office's 双报到 compliance page: overdue members, units and households per street, community, grid."""

from flask import request
from flask_admin import BaseView, expose
from flask_login import current_user

from admin.base import AREA_STAFF, AccessMixin
from app.models.choices import AreaLevel
from app.services import compliance
from app.services.clock import district_today
from app.services.scope import area_choices, code_in_scope

SHOWN = 200  # rows per list; the figures above them count all


class ComplianceView(AccessMixin, BaseView):
    """Who is behind today, in the user's area or one street, community or grid of it."""

    view_roles = AREA_STAFF

    @expose("/")
    def index(self):
        user = current_user
        area = (request.args.get("area") or "").strip()[:15]
        if area and (not area.isdigit() or not code_in_scope(user, area)):
            area = ""
        today = district_today()
        members = compliance.overdue_members(user, today, area or None, limit=SHOWN)
        units = compliance.overdue_units(user, today, area or None, limit=SHOWN)
        households = compliance.overdue_households(user, today, area or None, limit=SHOWN)
        names = compliance.area_names(
            [m.grid_code for m in members]
            + [u.community_code for u in units]
            + [h.grid_code for h in households]
        )
        options = [
            (label, area_choices(user, level))
            for label, level in (
                ("street", AreaLevel.STREET),
                ("community", AreaLevel.COMMUNITY),
                ("grid", AreaLevel.GRID),
            )
        ]
        return self.render(
            "admin/compliance.html",
            figures=compliance.figures(user, today, area or None),
            members=members,
            units=units,
            households=households,
            names=names,
            area=area,
            options=[(label, pairs) for label, pairs in options if pairs],
            today=today,
            interval=compliance.interval_days(),
            shown=SHOWN,
        )
