"""The public site: the wish board and wish pages, login, logout, registration."""

from marketplace import (  # noqa: F401  (attach their routes)
    accounts,
    callups,
    certificates,
    elder,
    errors,
    event_say,
    events,
    notifications,
    photos,
    signatures,
    stations,
    views,
    visits,
    wishes,
)
from marketplace.blueprint import bp  # noqa: F401  (the factory registers it)
