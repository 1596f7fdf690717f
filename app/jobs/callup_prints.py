"""A call-up's printouts (its check-in QR sheet and its report) rendered and stored, once; old ones removed."""

from app.jobs import job, periodic
from app.services.callup_prints import RENDER_JOB, remove_old_prints, render_print


@job(RENDER_JOB)
def render_callup_print(callup_id: int, what: str, name: str) -> str:
    """Render a call-up's PDF unless it is stored already (the job may run twice)."""
    return render_print(int(callup_id), str(what), str(name))


@periodic("callup_print_cleanup", seconds=3600)
def callup_print_cleanup() -> int:
    """Remove call-up PDFs older than a week and half-written ones; how many PDFs."""
    return remove_old_prints()
