"""The back office (Flask-Admin)."""


def init_admin(app):
    pass
