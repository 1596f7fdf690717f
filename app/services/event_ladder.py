"""The event ladder (docs/workflows.md#events): who holds an event at each level, one level up, who hears of a breach.

grid → community → street → district; departments are reached by dispatch (吹哨), never by escalation,
and escalate to the district like the street that called them in. Every rule about levels reads
these tables: the machine's escalate, the SLA sweep's auto_escalate and supervisions, the queues.
"""

from app.models.choices import EventLevel, Role

# who handles the event at each level (admins act at every level)
HANDLER_ROLE = {
    EventLevel.GRID: Role.GRID_WORKER,
    EventLevel.COMMUNITY: Role.COMMUNITY_ADMIN,
    EventLevel.STREET: Role.STREET_ADMIN,
    EventLevel.DEPARTMENT: Role.STREET_ADMIN,  # the street that whistled keeps coordinating
    EventLevel.DISTRICT: Role.ADMIN,
}

TOP = EventLevel.DISTRICT

# one level up; the top has none
NEXT_LEVEL = {
    EventLevel.GRID: EventLevel.COMMUNITY,
    EventLevel.COMMUNITY: EventLevel.STREET,
    EventLevel.STREET: TOP,
    EventLevel.DEPARTMENT: TOP,
}

# the level told about a breach (督办): the next one up, and the district is told about its own
NOTIFIED_LEVEL = {**NEXT_LEVEL, TOP: TOP}
