"""The OneGrid application factory."""

import functools
import os

from babel import Locale
from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.config import Config
from app.connections import connect_args
from app.extensions import babel, cache, csrf, db, limiter, login_manager, migrate, parsed_locale
from app.requests import init_requests
from app.security import register_security_headers

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: type | dict | None = None) -> Flask:
    """Build a OneGrid app; `config` is a config class or a dict of overrides."""
    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "marketplace", "static"),
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
    )
    init_requests(app)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    configure_defaults(app)
    register_extensions(app)
    register_security_headers(app)
    register_blueprints(app)
    register_admin(app)
    register_cli(app)
    register_jobs(app)
    check_limits_on_their_views_only(app)
    return app


def configure_defaults(app: Flask) -> None:
    """Fill in what the environment left open: the SQLite file and a development secret."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "onegrid.db")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # the scheme Heroku-style URLs use
        uri = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if app.config["EMBEDDED_JOBS"] not in ("background", "inline"):
        raise ValueError(
            f"EMBEDDED_JOBS must be 'background' or 'inline', not {app.config['EMBEDDED_JOBS']!r}"
        )
    if not uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DATABASE_MAX_OVERFLOW"])
        options["connect_args"] = {**connect_args(app.config), **(options.get("connect_args") or {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    else:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        # the driver turns `timeout` into SQLite's busy timeout on every connection it opens
        options["connect_args"] = dict(options.get("connect_args") or {})
        options["connect_args"].setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", os.path.join(PROJECT_ROOT, "translations"))


def _instance_secret(app: Flask) -> str:
    """A random secret kept under instance/ so sessions survive restarts without one in the repo."""
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(os.urandom(32).hex())
        os.chmod(path, 0o600)
    with open(path) as fh:
        return fh.read().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL and foreign keys on every SQLite connection (its busy timeout comes from `connect_args`)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def select_locale() -> Locale:
    """The user's chosen language (the request's `lang`, the session's, then the profile's: the API token's user,
    else the site's), Chinese by default."""
    from flask import current_app

    return parsed_locale(
        _chosen_language(current_app.config["LANGUAGES"]) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def _chosen_language(languages) -> str | None:
    from flask import g, has_request_context
    from flask_login import current_user

    if not has_request_context():
        return None
    if request.args.get("lang") in languages:
        return request.args["lang"]
    if session.get("lang") in languages:
        return session["lang"]
    # an API request's user is its token's (set once the token is checked); asking Flask-Login would look for a
    # site session and find none
    user = g.get("api_user") or current_user
    if getattr(user, "is_authenticated", False) and user.locale in languages:
        return user.locale
    return None


def register_extensions(app: Flask) -> None:
    from app import connections, models, sqlite_writers  # noqa: F401  (models registers the tables)
    from app.auth import load_user

    db.init_app(app)
    with app.app_context():
        connections.configure(app, db.engine)
        sqlite_writers.configure(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.login_view = "marketplace.login"
    login_manager.login_message = None
    login_manager.user_loader(load_user)

    @app.context_processor
    def inject_languages():
        from flask_babel import get_locale

        return {"languages": app.config["LANGUAGES"], "current_locale": str(get_locale())}


def register_blueprints(app: Flask) -> None:
    from app.api import register_api
    from app.health import bp as health_bp
    from app.ids import IdConverter
    from marketplace import bp as marketplace_bp

    app.url_map.converters["int"] = IdConverter  # before any rule: every `<int:id>` of every interface
    app.register_blueprint(health_bp)
    app.register_blueprint(marketplace_bp)
    register_api(app)


def register_admin(app: Flask) -> None:
    from admin import init_admin

    init_admin(app)


def register_cli(app: Flask) -> None:
    from app.cli import register_commands
    from app.jobs.cli import jobs_cli

    register_commands(app)
    app.cli.add_command(jobs_cli)
    audit_commands(app.cli)


def audit_commands(group) -> None:
    """What the commands of `group` change is audited as made through the command line (jobs say `job`)."""
    from app.services import audit

    for command in group.commands.values():
        if hasattr(command, "commands"):
            audit_commands(command)
        elif command.callback is not None and not getattr(command.callback, "audited", False):
            command.callback = _through_cli(command.callback, audit)


def _through_cli(callback, audit):
    @functools.wraps(callback)
    def run(*args, **kwargs):
        with audit.acting_through("cli"):
            return callback(*args, **kwargs)

    run.audited = True
    return run


def register_jobs(app: Flask) -> None:
    """Wire what follows each change and load the job handlers; in the embedded mode, run the periodic
    tasks from the web process."""
    from app.jobs.scheduler import start_embedded_scheduler
    from app.reactions import wire_reactions

    wire_reactions()
    if app.config["JOBS_EMBEDDED_SCHEDULER"] and not app.config.get("REDIS_URL"):
        # on the first request, so `flask db upgrade` and other commands never start it
        app.before_request(lambda: start_embedded_scheduler(app))


def check_limits_on_their_views_only(app: Flask) -> None:
    """Flask-Limiter checks every request before its view, for limits set on the whole app or a blueprint. OneGrid
    sets none: its limits are on the login views (`@limiter.limit`, whose wrapper checks them when the view
    runs). That pass then finds nothing, at a tenth of a bare API request's instructions (bench/claim_cost.py),
    so it is dropped, unless such limits are configured after all."""
    manager = limiter.limit_manager
    if manager.default_limits or manager.application_limits or manager._blueprint_limits:
        return
    if limiter._check_request_limit in app.before_request_funcs.get(
        None, []
    ):  # absent with RATELIMIT_ENABLED off
        app.before_request_funcs[None].remove(limiter._check_request_limit)
