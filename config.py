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


def _env_list(name):
    """A comma-separated list, or None when unset or empty."""
    items = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    return items or None


# The key the README once printed: public, so create_app refuses it like an empty one.
PLACEHOLDER_SECRET = "dev-only-change-me"

# "development" (the default) or "production": production needs PUBLIC_URL and trusts no
# loopback host name it was not given (see TRUSTED_HOSTS).
YMCS_ENV = _env("YMCS_ENV", "development")
# Where SECRET_KEY is read from when the variable is unset: `scripts/run.sh` writes a random
# one there on first run (mode 0600, under instance/, which git ignores).
SECRET_KEY_FILE = _env("SECRET_KEY_FILE", os.path.join(INSTANCE_DIR, "secret_key"))


def _secret_key():
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    try:
        with open(SECRET_KEY_FILE) as key_file:
            return key_file.read().strip()
    except FileNotFoundError:
        return ""  # create_app refuses to start and says how to make one


# Signs sessions, CSRF tokens, captchas and CWMP cookies/nonces: at least 32 random
# characters, the same on every node. Default: the contents of SECRET_KEY_FILE.
SECRET_KEY = _secret_key()
# The portal's address as its users reach it ("https://ymcs.example.com"): links in mail are
# built from it, never from the request's Host. Default http://127.0.0.1:8080 (what
# `scripts/run.sh` serves) in development; production refuses to start without it.
PUBLIC_URL = _env("PUBLIC_URL", None)
# Host names the portal answers to ("ymcs.example.com,.example.net": a leading dot admits
# subdomains); any other Host header gets 400. Default: the hosts of PUBLIC_URL and
# ACS_PUBLIC_URL, plus localhost and 127.0.0.1 in development.
TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")

# Embedded SQLite by default; production: mysql+mysqldb://user:pw@host/ymcs?charset=utf8mb4
# (mysqlclient, the C driver; mysql+pymysql:// URLs work too, at more CPU a request)
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
# FAB's raw permission, view-menu and permission-on-view screens: internals a platform
# administrator never needs (roles are edited in the Roles screen, permissions grouped by
# screen). Not registered, so they answer 404.
FAB_ADD_SECURITY_PERMISSION_VIEW = False
FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False

# How passwords are hashed (werkzeug's notation), by our code and Flask-AppBuilder's alike.
PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt")
FAB_PASSWORD_HASH_METHOD = PASSWORD_HASH_METHOD
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
# Reverse proxies in front of the app (0: none). With N, the client's address and scheme come
# from the last N entries of X-Forwarded-For/-Proto; without a proxy, never set it (anyone
# could then choose the address the lockout and the ACS see).
PROXY_HOPS = _env_int("PROXY_HOPS", 0)
# Sessions live on the server (app/accounts/sessions.py): in the database, or in Redis when
# REDIS_URL is set ("redis://host:6379/0"), under keys starting with SESSION_REDIS_PREFIX.
REDIS_URL = _env("REDIS_URL", "")
SESSION_REDIS_PREFIX = _env("SESSION_REDIS_PREFIX", "ymcs:session:")
RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = _env("AUTH_RATE_LIMIT", "10 per 20 second")
RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
# Fixed: sent with every response, /acs included, unless the response sets its own. Nothing of
# the portal may be framed (clickjacking), no content type is guessed, and a URL (a reset
# link's token) never travels to another site as a Referer.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# List pages: page size default and cap, and the point past which counts say "more than".
LIST_PAGE_SIZE = _env_int("LIST_PAGE_SIZE", 50)
LIST_MAX_PAGE_SIZE = _env_int("LIST_MAX_PAGE_SIZE", 200)
LIST_COUNT_CAP = _env_int("LIST_COUNT_CAP", 10000)
# The cap of a list both searched and filtered, in a scope of more than LIST_COUNT_CAP rows:
# its matches are scattered, and counting each costs a row read.
LIST_SEARCH_COUNT_CAP = _env_int("LIST_SEARCH_COUNT_CAP", 1000)
# How long "more than LIST_COUNT_CAP" is remembered per user and list (0: count every page).
LIST_COUNT_CACHE_SECONDS = _env_int("LIST_COUNT_CACHE_SECONDS", 60)

# Scheduler: "embedded" runs it inside `flask run`; "off" leaves it to `flask ymcs scheduler`.
SCHEDULER_MODE = _env("SCHEDULER_MODE", "embedded")
SCHEDULER_LEASE_SECONDS = _env_int("SCHEDULER_LEASE_SECONDS", 30)
SCHEDULER_TICK_SECONDS = _env_int("SCHEDULER_TICK_SECONDS", 10)
# Extra jobs for plug-ins and tests: "module:function,…", each called with the job registry.
YMCS_EXTRA_JOBS = _env("YMCS_EXTRA_JOBS", "")

# Mail: everything goes through the outbox (app/core/mail.py), sent by a scheduler job with retries.
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

# Excel exports (app/exports/jobs.py): finished files live in the file store; an export of at
# most EXPORT_INLINE_ROWS rows is written during the request, bigger ones by the scheduler.
FILE_STORE_DIR = _env("FILE_STORE_DIR", None)  # default: <instance folder>/files
EXPORT_INLINE_ROWS = _env_int("EXPORT_INLINE_ROWS", 2000)
EXPORT_POLL_SECONDS = _env_int("EXPORT_POLL_SECONDS", 2)  # how often queued exports start
EXPORT_RETENTION_HOURS = _env_int("EXPORT_RETENTION_HOURS", 24)  # then files are deleted

# Devices (app/device_ops/). The ACS URL phones are given; default: this server's /acs/.
ACS_PUBLIC_URL = _env("ACS_PUBLIC_URL", None)
# `Secure` on the cwmp_session cookie: a device then returns it over HTTPS only. Default: true
# when ACS_PUBLIC_URL is https://…, else SESSION_COOKIE_SECURE (a device reaching a plain-HTTP
# ACS would drop a Secure cookie and restart its session at every POST).
CWMP_COOKIE_SECURE = _env_bool(
    "CWMP_COOKIE_SECURE",
    ACS_PUBLIC_URL.startswith("https://") if ACS_PUBLIC_URL else SESSION_COOKIE_SECURE,
)
DEVICE_PERIODIC_INTERVAL = _env_int("DEVICE_PERIODIC_INTERVAL", 900)  # seconds, set on devices
DEVICE_SWEEP_SECONDS = _env_int("DEVICE_SWEEP_SECONDS", 60)  # offline marking, command timeouts
# Alarms that are not Critical reach their receivers in one digest mail per period (seconds);
# the job looks for due digests every ALARM_DIGEST_SWEEP_SECONDS.
ALARM_DIGEST_SECONDS = _env_int("ALARM_DIGEST_SECONDS", 3600)
ALARM_DIGEST_SWEEP_SECONDS = _env_int("ALARM_DIGEST_SWEEP_SECONDS", 60)
# Acknowledged and cleared alarms last seen longer ago, and the charts' older days, are deleted
# (hourly; 0 keeps them all). Open alarms stay.
ALARM_RETENTION_DAYS = _env_int("ALARM_RETENTION_DAYS", 365)
COMMAND_TIMEOUT_SECONDS = _env_int("COMMAND_TIMEOUT_SECONDS", 3600)  # queued/sent/waiting → failed
DEVICE_SAMPLE_RETENTION_DAYS = _env_int("DEVICE_SAMPLE_RETENTION_DAYS", 7)
CWMP_MAX_BODY_BYTES = _env_int("CWMP_MAX_BODY_BYTES", 256 * 1024)  # a bigger envelope gets a 413
UPLOAD_MAX_BYTES = _env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)  # a device's uploaded file
# A ping/traceroute the device accepted but never completed fails after this.
DIAGNOSTICS_TIMEOUT_SECONDS = _env_int("DIAGNOSTICS_TIMEOUT_SECONDS", 300)
# Where "Diagnosis assistance" on the device diagnostic page mails (through the outbox); empty:
# the tool says it is not set up.
DIAGNOSIS_SUPPORT_ADDRESS = _env("DIAGNOSIS_SUPPORT_ADDRESS", "")
COMMAND_RETENTION_DAYS = _env_int("COMMAND_RETENTION_DAYS", 90)  # finished commands, then pruned
UPLOAD_RETENTION_DAYS = _env_int("UPLOAD_RETENTION_DAYS", 30)  # then uploaded files are deleted

# System Management (app/system/). Operation-log rows older than this are pruned (0: never).
OPERATION_LOG_RETENTION_DAYS = _env_int("OPERATION_LOG_RETENTION_DAYS", 180)
# Sent and failed mails (and their attachments) queued longer ago are pruned (0: never).
MAIL_RETENTION_DAYS = _env_int("MAIL_RETENTION_DAYS", 90)
# Feedback (top right) goes to this address, with a copy to the sender.
SUPPORT_EMAIL = _env("SUPPORT_EMAIL", "support@ymcs.example")
FEEDBACK_MAX_ATTACHMENT_BYTES = _env_int("FEEDBACK_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024)
CONNECTION_REQUEST_TIMEOUT = float(_env("CONNECTION_REQUEST_TIMEOUT", 5))
# Connection requests go only to the address a device's last session came from, or into these
# networks ("10.0.0.0/8,192.0.2.0/24": devices behind a NAT the ACS reaches inside), never to
# loopback or link-local addresses unless allowed (scripts/run.sh allows them for its
# simulated phones on 127.0.0.1).
CONNECTION_REQUEST_NETWORKS = _env("CONNECTION_REQUEST_NETWORKS", "")
CONNECTION_REQUEST_ALLOW_LOOPBACK = _env_bool("CONNECTION_REQUEST_ALLOW_LOOPBACK", False)
# Configuration pushes (app/configs/). A device's row of a push still pending after this many
# days expires; the sweep (finished commands -> rows, expiry, timer tasks) runs this often.
CONFIG_PUSH_EXPIRY_DAYS = _env_int("CONFIG_PUSH_EXPIRY_DAYS", 7)
CONFIG_SWEEP_SECONDS = _env_int("CONFIG_SWEEP_SECONDS", 30)
# After a push, at most this many online devices get a connection request (in the background);
# the others fetch at their next periodic contact.
CONFIG_PUSH_WAKE_MAX = _env_int("CONFIG_PUSH_WAKE_MAX", 500)
# The time zone timer tasks are entered in when the channel has none of its own (IANA name).
CONFIG_TIME_ZONE = _env("CONFIG_TIME_ZONE", "UTC")
# `scripts/run.sh` starts this many simulated phones against the local ACS; 0 turns it off.
DEMO_FLEET_SIZE = _env_int("DEMO_FLEET_SIZE", 20)

# Each language named in its own script, whatever the page's language (as a reader looks for it).
LANGUAGES = {
    "en": {"flag": "gb", "name": "English"},
    "zh": {"flag": "cn", "name": "简体中文"},
}
BABEL_DEFAULT_LOCALE = "en"

# Static files (Flask-AppBuilder's Bootstrap, Font Awesome, select2, ours): browsers keep them
# for an hour instead of asking again on every page (about twenty conditional requests a page,
# each through the whole app). A release's changed file reaches every browser within the hour.
SEND_FILE_MAX_AGE_DEFAULT = _env_int("STATIC_MAX_AGE_SECONDS", 3600)
