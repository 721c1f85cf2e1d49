"""Settings. Every one can be overridden by an environment variable of the same name."""

import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.environ.get("YMCS_INSTANCE_DIR", os.path.join(BASE_DIR, "instance"))


def _env(name, default):
    return os.environ.get(name, default)


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    return int(os.environ.get(name, default))


PLACEHOLDER_SECRET = "dev-only-change-me"

# "development" (the default) or "production"; production refuses the placeholder secret.
YMCS_ENV = _env("YMCS_ENV", "development")
SECRET_KEY = _env("SECRET_KEY", PLACEHOLDER_SECRET)

# Embedded SQLite by default; production: mysql+pymysql://user:pw@host/ymcs?charset=utf8mb4
SQLALCHEMY_DATABASE_URI = _env(
    "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "ymcs.db")
)
# pool_pre_ping: a MariaDB restart costs one reconnect, not a failed request.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 3600}
SQLALCHEMY_TRACK_MODIFICATIONS = False

APP_NAME = _env("APP_NAME", "YMCS for Channel")
APP_THEME = ""
FAB_UPDATE_PERMS = _env_bool("FAB_UPDATE_PERMS", False)  # `flask ymcs init` syncs them
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = False

AUTH_TYPE = 1  # AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
AUTH_USER_REGISTRATION = False

# Baseline security (see ARCHITECTURE.md: FAB enables none of these by itself).
WTF_CSRF_ENABLED = _env_bool("WTF_CSRF_ENABLED", True)
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = _env("AUTH_RATE_LIMIT", "10 per 20 second")
RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")

# List pages: page size default and cap, and the point past which counts say "more than".
LIST_PAGE_SIZE = _env_int("LIST_PAGE_SIZE", 50)
LIST_MAX_PAGE_SIZE = _env_int("LIST_MAX_PAGE_SIZE", 200)
LIST_COUNT_CAP = _env_int("LIST_COUNT_CAP", 10000)
# How long "more than LIST_COUNT_CAP" is remembered per user and list (0: count every page).
LIST_COUNT_CACHE_SECONDS = _env_int("LIST_COUNT_CACHE_SECONDS", 60)

# Scheduler: "embedded" runs it inside `flask run`; "off" leaves it to `flask ymcs scheduler`.
SCHEDULER_MODE = _env("SCHEDULER_MODE", "embedded")
SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 30)
SCHEDULER_TICK_SECONDS = _env_int("SCHEDULER_TICK_SECONDS", 10)
# Extra jobs for plug-ins and tests: "module:function,…", each called with the job registry.
YMCS_EXTRA_JOBS = _env("YMCS_EXTRA_JOBS", "")

# Mail: everything goes through the outbox (app/mail.py), sent by a scheduler job with retries.
# MAIL_SERVER is your SMTP relay; with none reachable, mail waits in the outbox.
MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
MAIL_PORT = _env_int("MAIL_PORT", 25)
MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)  # STARTTLS after connecting
MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)  # TLS from the start (port 465)
MAIL_USERNAME = _env("MAIL_USERNAME", None)
MAIL_PASSWORD = _env("MAIL_PASSWORD", None)
MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "YMCS <no-reply@ymcs.example>")
MAIL_TIMEOUT = float(_env("MAIL_TIMEOUT", 10))  # seconds per SMTP connect/read
MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 20)  # then the message is marked failed
MAIL_OUTBOX_SECONDS = _env_int("MAIL_OUTBOX_SECONDS", 10)  # how often the outbox job runs
# Fixed: Flask-Mail would otherwise drop mail silently whenever TESTING is on, and the outbox
# would record it as sent.
MAIL_SUPPRESS_SEND = False

# Orders: how often the sweep activates and expires orders as their dates come.
ORDER_SWEEP_SECONDS = _env_int("ORDER_SWEEP_SECONDS", 60)

# Excel exports (app/export_jobs.py): finished files live in the file store; an export of at
# most EXPORT_INLINE_ROWS rows is written during the request, bigger ones by the scheduler.
FILE_STORE_DIR = _env("FILE_STORE_DIR", None)  # default: <instance folder>/files
EXPORT_INLINE_ROWS = _env_int("EXPORT_INLINE_ROWS", 2000)
EXPORT_POLL_SECONDS = _env_int("EXPORT_POLL_SECONDS", 2)  # how often queued exports start
EXPORT_RETENTION_HOURS = _env_int("EXPORT_RETENTION_HOURS", 24)  # then files are deleted

# Devices (app/device_ops/). The ACS URL phones are given; default: this server's /acs/.
ACS_PUBLIC_URL = _env("ACS_PUBLIC_URL", None)
DEVICE_PERIODIC_INTERVAL = _env_int("DEVICE_PERIODIC_INTERVAL", 900)  # seconds, set on devices
DEVICE_SWEEP_SECONDS = _env_int("DEVICE_SWEEP_SECONDS", 60)  # offline marking, command timeouts
COMMAND_TIMEOUT_SECONDS = _env_int("COMMAND_TIMEOUT_SECONDS", 3600)  # queued/sent/waiting → failed
DEVICE_SAMPLE_RETENTION_DAYS = _env_int("DEVICE_SAMPLE_RETENTION_DAYS", 7)
CWMP_MAX_BODY_BYTES = _env_int("CWMP_MAX_BODY_BYTES", 256 * 1024)  # a bigger envelope gets a 413
UPLOAD_MAX_BYTES = _env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)  # a device's uploaded file
UPLOAD_RETENTION_DAYS = _env_int("UPLOAD_RETENTION_DAYS", 30)  # then uploaded files are deleted
CONNECTION_REQUEST_TIMEOUT = float(_env("CONNECTION_REQUEST_TIMEOUT", 5))
# `scripts/run.sh` starts this many simulated phones against the local ACS; 0 turns it off.
DEMO_FLEET_SIZE = _env_int("DEMO_FLEET_SIZE", 20)

LANGUAGES = {
    "en": {"flag": "gb", "name": "English"},
    "zh": {"flag": "cn", "name": "Chinese"},
}
BABEL_DEFAULT_LOCALE = "en"
