"""Events (一网统管) in the background: the SLA sweep every minute (what follows each step: app.reactions)."""

from app.jobs import periodic
from app.services.event_sla import sweep


@periodic("sla_sweep", seconds=60)
def sla_sweep() -> str:
    """Supervise every newly breached deadline and escalate overdue events (idempotent)."""
    return str(sweep())
