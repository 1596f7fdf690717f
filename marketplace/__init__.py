"""The public site: the wish board and wish pages, login, logout, registration."""

from marketplace import accounts, certificates, errors, events, signatures, stations, views, visits, wishes  # noqa: F401  (attach their routes)
from marketplace.blueprint import bp  # noqa: F401  (the factory registers it)
