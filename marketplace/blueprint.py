"""The public site's blueprint, on its own so the route modules can attach to it without importing the package."""
from flask import Blueprint

bp = Blueprint("marketplace", __name__)
