"""The public site's blueprint, on its own so the route modules can attach to it without importing the package."""

from flask import Blueprint

from app.origin import audit_requests

bp = Blueprint("marketplace", __name__)
audit_requests(
    bp, "site"
)  # what the site's pages change is audited as the site's, from the visitor's address
