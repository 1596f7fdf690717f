"""The monthly sheet render job: the latest revision asked for rendered, stored and marked ready, once."""

from app.jobs import job
from app.services.work_sheets import RENDER_JOB, render_pending


@job(RENDER_JOB)
def render_work_sheet(sheet_id: int, revision: int) -> str:
    """Render a sheet's revision; an older revision, or one rendered already, is left alone."""
    return render_pending(int(sheet_id), int(revision))
