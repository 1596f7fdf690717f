"""The public site: the wish board and wish pages, login, logout, registration."""
from flask import Blueprint

bp = Blueprint("marketplace", __name__)

# the route modules attach themselves to `bp`; imported last so they can import it
from marketplace import accounts, certificates, errors, events, views, wishes  # noqa: E402,F401
