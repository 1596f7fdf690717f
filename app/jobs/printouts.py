"""The printout render job: a grid's poster or badges rendered and stored, the printout marked ready, once."""

from app.jobs import job
from app.services.printouts import RENDER_JOB, render_pending


@job(RENDER_JOB)
def render_printout(printout_id: int) -> str:
    """Render a pending printout; a ready one is left alone (the job may run twice)."""
    return render_pending(int(printout_id))
