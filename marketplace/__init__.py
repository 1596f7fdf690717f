"""The public site: board, login, logout, registration."""
from flask import Blueprint

bp = Blueprint("marketplace", __name__)

# the route modules attach themselves to `bp`; imported last so they can import it
from marketplace import accounts, errors, views  # noqa: E402,F401
