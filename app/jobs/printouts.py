"""The printout render job: a grid's poster or badges rendered and stored, the printout marked ready, once."""

from app.jobs import job, periodic
from app.services.printouts import RENDER_JOB, remove_old_printouts, render_pending


@job(RENDER_JOB)
def render_printout(printout_id: int) -> str:
    """Render a pending printout; a ready one is left alone (the job may run twice)."""
    return render_pending(int(printout_id))


@periodic("printout_cleanup", seconds=3600)
def printout_cleanup() -> int:
    """Remove printouts older than a week (rows and PDFs) and half-written files; how many printouts."""
    return remove_old_printouts()
