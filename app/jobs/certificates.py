"""The certificate render job: PDF rendered and stored, certificate marked ready, `certificate_issued` sent, once."""

from app.jobs import job, periodic

# importing the service also connects its wish_changed receiver, which issues the certificates
from app.services.certificates import RENDER_JOB, remove_stale_partial_files, render_pending


@job(RENDER_JOB)
def render_certificate(certificate_id: int) -> str:
    """Render a pending certificate; a ready or revoked one is left alone (the job may run twice)."""
    return render_pending(int(certificate_id))


@periodic("certificate_cleanup", seconds=3600)
def certificate_cleanup() -> int:
    """Remove half-written PDFs left by renders that were killed (older than an hour); how many."""
    return remove_stale_partial_files()
