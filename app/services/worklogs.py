"""Grid work logs (工作日志): written by the grid's worker or staff, signed by its captain and leader (双签字).

The signing rules are app.services.signatures' machine; this module writes, edits, lists and finds the
grids whose log has gone quiet (WORKLOG_STALE_DAYS, counted in the district's calendar). Functions
flush and never commit.
"""

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select, true

from app.extensions import db
from app.ids import parse_id
from app.models import Area, GridRole
from app.models.choices import STAFF_ROLES, AreaLevel
from app.models.worklogs import CONTENT_MAX, SignPlace, SignStatus, WorkLog, WorkRecord
from app.services import audit, signatures, workflow
from app.services.clock import district_today
from app.services.errors import Forbidden, Invalid
from app.services.scope import apply_scope, scope_condition
from app.services.text import check_text

DEFAULT_STALE_DAYS = 7  # WORKLOG_STALE_DAYS
OLDEST_DAYS = 366  # a log may be written for a day up to a year back


def _edit_values(actor, log: WorkLog, values: dict) -> dict:
    changes = {}
    if "content" in values and values["content"] is not None:
        changes["content"] = _content(values["content"])
    if "date" in values and values["date"] is not None:
        changes["log_date"] = _log_date(values["date"])
    if not changes:
        raise Invalid({"content": _("Say what to change.")})
    return changes


MACHINE = signatures.signing_machine("work_log", WorkLog)
MACHINE.steps.update(
    {
        signatures.SIGN: lambda actor, log, values: signatures.sign(MACHINE, actor, log, values.get("place")),
        signatures.EDIT: lambda actor, log, values: signatures.edit(
            MACHINE, actor, log, lambda: _edit_values(actor, log, values)
        ),
    }
)


# --- values ----------------------------------------------------------------------------------------
def _content(value) -> str:
    errors: dict = {}
    content = check_text(errors, "content", value, CONTENT_MAX, True, _("Content"))
    if errors:
        raise Invalid(errors)
    return content


def _log_date(value) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise Invalid({"date": _("Enter the date as YYYY-MM-DD.")}) from None
    if not isinstance(value, date):
        raise Invalid({"date": _("Enter the date as YYYY-MM-DD.")})
    today = district_today()
    if value > today:
        raise Invalid({"date": _("A work log is written for a day that has come.")})
    if value < today - timedelta(days=OLDEST_DAYS):
        raise Invalid({"date": _("That day is more than a year ago.")})
    return value


def _grid(grid_code) -> Area:
    grid = (
        db.session.scalar(select(Area).where(Area.code == grid_code, Area.level == AreaLevel.GRID))
        if isinstance(grid_code, str)
        else None
    )
    if grid is None:
        raise Invalid({"grid_code": _("Choose a grid.")})
    return grid


# --- writing ---------------------------------------------------------------------------------------
def write_log(actor, grid_code, log_date, content) -> WorkLog:
    """A new entry in a grid's work log, awaiting its two signatures."""
    grid = _grid(grid_code)
    if not signatures.may_write(actor, grid.code):
        raise Forbidden(_("Only the grid's worker and staff responsible for the grid write its work log."))
    log = WorkLog(
        grid_code=grid.code,
        log_date=_log_date(log_date),
        content=_content(content),
        author_id=actor.id,
        status=SignStatus.AWAITING,
    )
    db.session.add(log)
    db.session.flush()
    audit.record(actor, "create", log, None, audit.snapshot(log))
    return log


def edit_log(actor, log: WorkLog, *, content=None, log_date=None) -> WorkLog:
    """Change an entry before both have signed (the signatures given are cleared); 409 once signed."""
    return workflow.perform(MACHINE, actor, log, signatures.EDIT, {"content": content, "date": log_date})


def sign_log(actor, log: WorkLog, place: str | None = None) -> WorkLog:
    """Sign an entry as the grid's captain or leader (see signatures.sign)."""
    return workflow.perform(MACHINE, actor, log, signatures.SIGN, {"place": place})


def actions(user, log: WorkLog) -> list[str]:
    return signatures.actions(MACHINE, user, log)


# --- reading ---------------------------------------------------------------------------------------
def signer_grids(user):
    """select() of the grid codes where `user` holds the captain's or the leader's place."""
    return select(GridRole.grid_code).where(
        GridRole.user_id == user.id, GridRole.role.in_([p.value for p in SignPlace])
    )


def visible_condition(user, model=WorkLog):
    """Entries `user` may read: staff their area's, the signers their grids' (to sign them)."""
    if user is None or not getattr(user, "is_authenticated", True):
        return false()
    signer = model.grid_code.in_(signer_grids(user))
    if user.role not in STAFF_ROLES:
        return signer
    condition = scope_condition(model, user)
    return true() if condition is None else or_(condition, signer)


def get_log(user, log_id) -> WorkLog | None:
    """The entry when `user` may read it, else None (the caller answers 404)."""
    log_id = parse_id(log_id)
    if log_id is None:
        return None
    return db.session.scalar(select(WorkLog).where(WorkLog.id == log_id, visible_condition(user)))


def logs_of_month(grid_code: str, month: date) -> list[WorkLog]:
    """A grid's entries of the month that `month` begins, by day."""
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return list(
        db.session.scalars(
            select(WorkLog)
            .where(WorkLog.grid_code == grid_code, WorkLog.log_date >= month, WorkLog.log_date < end)
            .order_by(WorkLog.log_date, WorkLog.id)
        )
    )


# --- grids gone quiet ------------------------------------------------------------------------------
def stale_days() -> int:
    return int(current_app.config.get("WORKLOG_STALE_DAYS", DEFAULT_STALE_DAYS))


def stale_grids_query(user, today: date | None = None):
    """select() of (code, name, last log date) of the grids in `user`'s scope with no entry for
    WORKLOG_STALE_DAYS days (none at all, or the last one before the cutoff), set-based."""
    cutoff = (today or district_today()) - timedelta(days=stale_days())
    last = (
        select(WorkLog.grid_code, func.max(WorkLog.log_date).label("last_on"))
        .group_by(WorkLog.grid_code)
        .subquery()
    )
    query = (
        select(Area.code, Area.name, last.c.last_on)
        .outerjoin(last, last.c.grid_code == Area.code)
        .where(Area.level == AreaLevel.GRID, or_(last.c.last_on.is_(None), last.c.last_on < cutoff))
        .order_by(Area.code)
    )
    return apply_scope(query, Area, user)


def stale_grids(user, today: date | None = None) -> list:
    return list(db.session.execute(stale_grids_query(user, today)))


def stale_count(user, today: date | None = None) -> int:
    """How many grids in scope have gone WORKLOG_STALE_DAYS days without a log (the dashboard's figure)."""
    inner = stale_grids_query(user, today).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


def figures(user, today: date | None = None) -> dict:
    """The dashboard's 双签字 figures in `user`'s scope: grids, grids without a recent log, entries awaiting."""
    grids = db.session.scalar(
        apply_scope(select(func.count()).select_from(Area).where(Area.level == AreaLevel.GRID), Area, user)
    )

    def awaiting(model) -> int:
        query = select(func.count()).select_from(model).where(model.status == SignStatus.AWAITING)
        return db.session.scalar(apply_scope(query, model, user)) or 0

    return {
        "grids": grids or 0,
        "stale": stale_count(user, today),
        "days": stale_days(),
        "logs_awaiting": awaiting(WorkLog),
        "records_awaiting": awaiting(WorkRecord),
    }


def awaiting_signature(user, model=WorkLog, limit: int = 100) -> list:
    """Entries (work logs, or `model` WorkRecord) of the grids where `user` holds a signing place that still
    await a signature `user` may give, oldest first."""
    if user is None or not getattr(user, "is_authenticated", True):
        return []
    rows = db.session.scalars(
        select(model)
        .where(
            model.status == SignStatus.AWAITING,
            model.grid_code.in_(signer_grids(user)),
            or_(model.captain_signer_id.is_(None), model.leader_signer_id.is_(None)),
            or_(model.captain_signer_id.is_(None), model.captain_signer_id != user.id),
            or_(model.leader_signer_id.is_(None), model.leader_signer_id != user.id),
        )
        .order_by(model.id)
        .limit(limit)
    )
    return [entry for entry in rows if signatures.SIGN in signatures.actions(_machine_of(model), user, entry)]


def _machine_of(model):
    if model is WorkLog:
        return MACHINE
    from app.services import work_records  # it imports this module

    return work_records.MACHINE
