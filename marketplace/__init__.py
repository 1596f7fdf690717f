"""The public site: board, login, logout, registration."""
from flask import Blueprint

bp = Blueprint("marketplace", __name__)
