"""`seed scale` writes half a year of work logs: every grid has entries, a few grids have gone quiet, the old
entries carry both signatures (two different people), the newest await them."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area
from app.models.choices import AreaLevel
from app.models.worklogs import SignStatus, WorkLog
from app.services import worklogs

pytestmark = pytest.mark.usefixtures("english")

AS_OF = date(2026, 11, 26)


def test_seed_scale_writes_signed_and_awaiting_work_logs_and_some_quiet_grids(runner, app):
    result = runner.invoke(args=["seed", "scale", "--preset", "small", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    grids = db.session.scalar(select(func.count()).select_from(Area).where(Area.level == AreaLevel.GRID))
    logged = db.session.scalar(select(func.count(func.distinct(WorkLog.grid_code))))
    assert logged == grids > 0
    signed = db.session.scalars(select(WorkLog).where(WorkLog.status == SignStatus.SIGNED)).all()
    assert signed and all(
        log.captain_signer_id and log.leader_signer_id and log.captain_signer_id != log.leader_signer_id
        for log in signed
    )
    assert all((AS_OF - log.log_date).days > 3 for log in signed)
    awaiting = db.session.scalars(select(WorkLog).where(WorkLog.status == SignStatus.AWAITING)).all()
    assert awaiting and all(log.leader_signer_id is None for log in awaiting)
    last = dict(
        tuple(row)
        for row in db.session.execute(
            select(WorkLog.grid_code, func.max(WorkLog.log_date)).group_by(WorkLog.grid_code)
        )
    )
    quiet = {code for code, day in last.items() if day < AS_OF - timedelta(days=worklogs.DEFAULT_STALE_DAYS)}
    assert len(quiet) < grids / 4
