"""The JSON API at /api/v1 (flask-smorest: schemas, validation and the OpenAPI document)."""
from flask import Flask


def register_api(app: Flask) -> None:
    """Placeholder until the API module lands (replaced below)."""
