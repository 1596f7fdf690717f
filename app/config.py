"""Configuration classes; every setting can come from an environment variable."""

import os
import tempfile
from datetime import timedelta


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings for a running deployment, read from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    PASSWORD_HASH_METHOD = "scrypt"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite under instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL: a connection that sat in the pool longer than this is checked before use (app/pool_ping.py)
    DATABASE_PING_IDLE_SECONDS = float(os.environ.get("DATABASE_PING_IDLE_SECONDS", "10"))
    # PostgreSQL: connections each process keeps open, at least its threads (gunicorn's plus the job runner's
    # and the scheduler's), so none is opened and closed per request; more are opened for a burst, then closed
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "20"))
    DATABASE_MAX_OVERFLOW = int(os.environ.get("DATABASE_MAX_OVERFLOW", "10"))
    # PostgreSQL (app/connections.py): a statement is prepared after this many runs on a connection, i.e. at
    # its second ("none": never, for a pooler in transaction mode)
    DATABASE_PREPARE_THRESHOLD = os.environ.get("DATABASE_PREPARE_THRESHOLD", "1")
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000"))
    REDIS_URL = os.environ.get("REDIS_URL")  # None: jobs run in-process
    # without Redis: "background" runs committed jobs on a thread of the web process after the response,
    # "inline" in the request right after the commit (the tests, to see a job's effect at once)
    EMBEDDED_JOBS = os.environ.get("EMBEDDED_JOBS", "background")
    EMBEDDED_JOBS_DRAIN_SECONDS = float(os.environ.get("EMBEDDED_JOBS_DRAIN_SECONDS", "30"))
    JOB_TIMEOUT_SECONDS = int(os.environ.get("JOB_TIMEOUT_SECONDS", "300"))
    JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "10"))
    # a pushed job not finished after this long is pushed again (its worker may have died)
    JOB_RELAY_GRACE_SECONDS = int(os.environ.get("JOB_RELAY_GRACE_SECONDS", "300"))
    # without Redis, the web process runs the periodic tasks (relay, auto-confirm, …) in a thread
    JOBS_EMBEDDED_SCHEDULER = _bool("JOBS_EMBEDDED_SCHEDULER", True)
    # login, registration and token requests per client address (Flask-Limiter syntax): a ceiling generous
    # enough for a community centre's members all logging in over its one Wi-Fi address
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "60 per minute;600 per hour")
    # failed passwords per account, from any address, before its logins are refused for a while (429);
    # successful logins are not counted; empty: no limit
    LOGIN_ACCOUNT_FAILURE_LIMIT = os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMIT", "5 per 5 minutes")
    RATELIMIT_STORAGE_URI = (
        os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT_ENABLED = _bool("LOGIN_RATE_LIMIT_ENABLED", True)
    # events one resident or member may report (随手拍), from the site and the API alike; only reports made
    # count; empty: no limit
    EVENT_REPORT_RATE_LIMIT = os.environ.get("EVENT_REPORT_RATE_LIMIT", "10 per hour")
    TRUSTED_PROXIES = int(
        os.environ.get("TRUSTED_PROXIES", "0")
    )  # reverse proxies in front (X-Forwarded-For)
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "zh_Hans_CN")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    # the district's calendar: every date rule (today, due dates, months) is judged here (app/services/clock.py)
    DISTRICT_TIMEZONE = os.environ.get("DISTRICT_TIMEZONE") or os.environ.get("TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    ADMIN_EXPORT_MAX_ROWS = int(os.environ.get("ADMIN_EXPORT_MAX_ROWS", "10000"))
    # bulk import of residents: rows and bytes one file may hold (a bigger file is refused with a message)
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "50000"))
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
    # request bodies, in bytes: every page's cap leaves room for the largest import file and its form; the JSON
    # API's is far lower (its largest body, a wish or an event, is a few kilobytes); over a cap: 413, unread
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(IMPORT_MAX_BYTES + 1024 * 1024)))
    API_MAX_CONTENT_LENGTH = int(os.environ.get("API_MAX_CONTENT_LENGTH", str(1024 * 1024)))
    API_TOKEN_TTL = timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "12")))
    # a state-changing API call sent again with the same Idempotency-Key gets its first answer for this long
    IDEMPOTENCY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_TTL_HOURS", "24"))
    # micro-wishes: claims per member, who may claim ("community" or "district"), deadlines in hours
    MAX_ACTIVE_CLAIMS = int(os.environ.get("MAX_ACTIVE_CLAIMS", "3"))
    WISH_CLAIM_SCOPE = os.environ.get("WISH_CLAIM_SCOPE", "community")
    WISH_REVIEW_HOURS = int(os.environ.get("WISH_REVIEW_HOURS", "24"))
    WISH_CLAIM_HOURS = int(os.environ.get("WISH_CLAIM_HOURS", "72"))
    WISH_RESOLVE_HOURS = int(os.environ.get("WISH_RESOLVE_HOURS", "168"))
    WISH_AUTO_CONFIRM_HOURS = int(os.environ.get("WISH_AUTO_CONFIRM_HOURS", "72"))
    # contact (app/services/contact.py): full phones shown to a wish's claimer and owner and to staff on a reveal;
    # off: names and a "through the grid worker" hint only. The masker, "module:function", turns a real number
    # into the one to dial (a district's number-masking service) or None to hide it
    CONTACT_PHONE_DISPLAY = _bool("CONTACT_PHONE_DISPLAY", True)
    CONTACT_PHONE_MASKER = os.environ.get("CONTACT_PHONE_MASKER") or None
    # read notifications are deleted this many days after they were read (the prune_notifications task)
    NOTIFICATION_RETENTION_DAYS = int(os.environ.get("NOTIFICATION_RETENTION_DAYS", "90"))
    BOARD_PAGE_SIZE = int(os.environ.get("BOARD_PAGE_SIZE", "20"))
    # visitors (not logged in) get the board as rendered at most this many seconds ago; 0 turns it off
    BOARD_CACHE_SECONDS = int(os.environ.get("BOARD_CACHE_SECONDS", "5"))
    # the dashboard's and grid map's figures are kept this long per (scope, period); 0 computes them every time
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "300"))
    CACHE_TYPE = "SimpleCache"  # per process: the board cache is short-lived, so workers need not share it
    CACHE_THRESHOLD = 2000
    # certificates: where PDFs are kept (relative paths are under instance/), the address the QR code
    # points at, and the issuing body printed on them (default: the district's grid centre)
    CERTIFICATE_DIR = os.environ.get("CERTIFICATE_DIR", "certificates")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    CERTIFICATE_ISSUER = os.environ.get("CERTIFICATE_ISSUER", "")
    # the grid's red station (网格红色驿站): the supervision phone when no area up from the grid has its own
    # (Area.supervision_phone, set per grid, community, street or district), how long visitors share one
    # rendering of a station page, how far back its fulfilled wishes go, and where posters and badge sheets
    # are kept (relative paths are under instance/)
    SUPERVISION_PHONE = os.environ.get("SUPERVISION_PHONE", "")
    STATION_CACHE_SECONDS = int(os.environ.get("STATION_CACHE_SECONDS", "60"))
    # how stale a call-up's live roll may be (per process; pages refresh it every 4 s): many staff polling share it
    CALLUP_ROLL_CACHE_SECONDS = int(os.environ.get("CALLUP_ROLL_CACHE_SECONDS", "2"))
    STATION_WISH_DAYS = int(os.environ.get("STATION_WISH_DAYS", "90"))
    PRINTOUT_DIR = os.environ.get("PRINTOUT_DIR", "printouts")
    # stored files (PDFs, photos): "files" keeps them in folders (CERTIFICATE_DIR, PRINTOUT_DIR, STORAGE_DIR for
    # the rest; relative paths under instance/), "database" in the stored_file table, shared by every web machine
    STORAGE = os.environ.get("STORAGE", "files")
    STORAGE_DIR = os.environ.get("STORAGE_DIR", "files")
    # photos: the largest upload (bigger: 413), the long side they are scaled down to, the thumbnails' long side,
    # and the most pixels a picture may declare (more: refused as a decompression bomb)
    ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
    ATTACHMENT_MAX_PIXELS_SIDE = int(os.environ.get("ATTACHMENT_MAX_PIXELS_SIDE", "2048"))
    ATTACHMENT_THUMBNAIL_SIDE = int(os.environ.get("ATTACHMENT_THUMBNAIL_SIDE", "320"))
    ATTACHMENT_MAX_SOURCE_PIXELS = int(os.environ.get("ATTACHMENT_MAX_SOURCE_PIXELS", str(50_000_000)))
    # 双报到: a household of a member's 责任田 is due a visit this many days after the last one; visits and
    # units' activities may be recorded this many district days after the fact
    VISIT_INTERVAL_DAYS = int(os.environ.get("VISIT_INTERVAL_DAYS", "14"))
    VISIT_BACKDATE_DAYS = int(os.environ.get("VISIT_BACKDATE_DAYS", "31"))
    # 双签字: a grid with no work log for this many district days is flagged
    WORKLOG_STALE_DAYS = int(os.environ.get("WORKLOG_STALE_DAYS", "7"))
    # 回访: a callback falls due this long after a confirmation, and is overdue this long after that
    CALLBACK_DELAY_HOURS = int(os.environ.get("CALLBACK_DELAY_HOURS", "24"))
    CALLBACK_OVERDUE_HOURS = int(os.environ.get("CALLBACK_OVERDUE_HOURS", "24"))
    # outbound webhooks: per-request timeout, and whether private/loopback addresses may receive them
    WEBHOOK_TIMEOUT_SECONDS = int(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    WEBHOOK_ALLOW_PRIVATE = _bool("WEBHOOK_ALLOW_PRIVATE", False)
    # how long a process trusts its copy of which endpoints listen (app/services/webhook_listeners.py); 0: never
    WEBHOOK_ENDPOINTS_CACHE_SECONDS = int(os.environ.get("WEBHOOK_ENDPOINTS_CACHE_SECONDS", "5"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # a login ("keep me logged in": its remember-me cookie) ends on the server after this long, logout or
    # a password change ending it sooner
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_COOKIE_DAYS", "14")))
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    LOGIN_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("LOGIN_SESSION_HOURS", "24")))
    # security headers (app/security.py). The content security policy: every script from a file of the site (the
    # request's nonce is added to script-src), inline styles (ECharts and the date picker set them), data: images
    # (Bootstrap's icons); CSP_REPORT_ONLY trials a changed policy. HSTS is sent only while cookies are secure.
    CONTENT_SECURITY_POLICY = os.environ.get("CONTENT_SECURITY_POLICY") or (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    CSP_REPORT_ONLY = _bool("CSP_REPORT_ONLY", False)
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 3600)))
    HSTS_INCLUDE_SUBDOMAINS = _bool("HSTS_INCLUDE_SUBDOMAINS", False)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    FLASK_ADMIN_SWATCH = "default"
    # flask-smorest: the OpenAPI document lives under the API prefix
    API_TITLE = "OneGrid API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"


class TestConfig(Config):
    """Settings for the test suite: a throwaway database and no CSRF friction."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT_ENABLED = False  # one test turns it on
    EVENT_REPORT_RATE_LIMIT = ""  # likewise
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # still scrypt, cheap enough for hundreds of test users
    FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = True
    BOARD_CACHE_SECONDS = 0  # pages show each change at once; one test turns it on
    DASHBOARD_CACHE_SECONDS = 0  # likewise for the dashboard and the grid map
    JOBS_EMBEDDED_SCHEDULER = False  # tests run periodic tasks themselves
    CERTIFICATE_DIR = os.path.join(tempfile.gettempdir(), "onegrid-test-certificates")  # never instance/
    PRINTOUT_DIR = os.path.join(tempfile.gettempdir(), "onegrid-test-printouts")
    STORAGE = os.environ.get("TEST_STORAGE", "files")
    STORAGE_DIR = os.path.join(tempfile.gettempdir(), "onegrid-test-files")
    STATION_CACHE_SECONDS = 0  # likewise for the stations
    CALLUP_ROLL_CACHE_SECONDS = 0  # and the call-ups' rolls
    REDIS_URL = None  # embedded jobs unless a test points an app at Redis
    DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW = (
        5,
        10,
    )  # many apps, few threads each: keep few connections open
    EMBEDDED_JOBS = "inline"  # a job's effect is there when the request returns; tests of the runner say so
