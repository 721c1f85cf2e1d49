"""Fixtures. The suite runs on SQLite by default and on MariaDB with YMCS_TEST_DB=mariadb;
either way the schema is built by the migrations, as in production."""

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db

from .smtp import SmtpServer, free_port
from .tree import build_tree

# The suite's mail relay; tests that read mail start a server on it. Chosen in pytest_configure:
# under pytest-xdist every worker gets a port of its own from the controller.
SMTP_PORT = None
_SMTP_PORTS_GIVEN = set()  # in the xdist controller: the ports handed to workers so far

# mysqlclient, the driver production uses (README: Production); mysql+pymysql:// URLs work too.
MARIADB_SERVER = os.environ.get("YMCS_TEST_MARIADB", "mysql+mysqldb://root@127.0.0.1:3306")


def database_kind():
    return os.environ.get("YMCS_TEST_DB", "sqlite")


def pytest_report_header(config):
    return f"database: {database_kind()}"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist, in the controller: one SMTP port per worker, distinct by construction
    (two workers each asking the kernel for a free port could be told the same one)."""
    port = free_port()
    while port in _SMTP_PORTS_GIVEN:
        port = free_port()
    _SMTP_PORTS_GIVEN.add(port)
    node.workerinput["ymcs_smtp_port"] = port


BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(items):
    """The browser tests first and together, in their (random) order: pytest-randomly spreads
    the modules among the others, and between two browser modules the package's Chromium and
    live server (tests/browser/conftest.py: a database of its own, migrated and seeded) would
    close and start again. Runs after pytest-randomly's shuffle; a stable partition, so the
    seed still gives the order. Under xdist each worker keeps its share contiguous (every
    worker runs its tests in this order)."""
    browser = [item for item in items if BROWSER_TESTS in item.path.parents]
    if browser:
        items[:] = browser + [item for item in items if BROWSER_TESTS not in item.path.parents]


def pytest_terminal_summary(terminalreporter, config):
    # pytest-randomly's header line is hidden under -q: repeat the order's seed at the end.
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"random order: -p randomly --randomly-seed={seed} "
                                    "runs this order again")


def pytest_configure(config):
    global SMTP_PORT
    workerinput = getattr(config, "workerinput", None)  # set in an xdist worker
    SMTP_PORT = workerinput["ymcs_smtp_port"] if workerinput else free_port()
    TEST_SETTINGS["MAIL_PORT"] = SMTP_PORT


def create_test_database(tmp_dir):
    """A fresh, empty database; returns (url, drop callable)."""
    if database_kind() == "mariadb":
        import sqlalchemy

        name = f"ymcs_test_{uuid.uuid4().hex[:10]}"
        server = sqlalchemy.create_engine(MARIADB_SERVER)
        with server.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")

        def drop():
            with server.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            server.dispose()

        return f"{MARIADB_SERVER}/{name}?charset=utf8mb4", drop
    path = os.path.join(str(tmp_dir), f"ymcs-{uuid.uuid4().hex[:8]}.db")
    return f"sqlite:///{path}", lambda: None


TEST_SETTINGS = {
    "TESTING": True,
    # The suite's own key: create_app refuses a short or known one.
    "SECRET_KEY": "test-secret-of-the-test-suite-only-0123456789",
    # The test client's default host; the browser tests serve on 127.0.0.1.
    "PUBLIC_URL": "http://localhost",
    "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    "SCHEDULER_MODE": "off",
    # Tests log in hundreds of times from 127.0.0.1; test_security checks the real limit.
    "AUTH_RATE_LIMIT": "100000 per second",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": None,  # SMTP_PORT, once pytest_configure has chosen it
    "MAIL_TIMEOUT": 2,
    # The simulated phones live on 127.0.0.1; tests/device_ops/test_connreq.py checks the refusal.
    "CONNECTION_REQUEST_ALLOW_LOOPBACK": True,
    # Thousands of accounts are made and signed in: a cheap hash (scrypt costs ~0.1 s each);
    # tests/accounts/test_passwords.py checks that the production default stays scrypt.
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
}


def make_app(url, **overrides):
    return create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, **overrides})


def migrate_and_sync(app):
    """The schema by the migrations and FAB's roles and permissions, in the app's empty
    database. The migrations run once per test process (the first call); later calls copy
    that database as it was then (tests/test_migrations.py runs the real thing every time):
    every test app registers the same views, so its roles and permissions are the copy's.
    A copy takes a fraction of the migrations' and the sync's hundreds of commits: a second or
    two on SQLite, a few on a loaded MariaDB, instead of 10 to 60."""
    import flask_migrate

    with app.app_context():
        if _TEMPLATE:
            db.session.remove()
            db.engine.dispose()
            _copy_database(_TEMPLATE["url"], db.engine.url.render_as_string(hide_password=False))
            return
        flask_migrate.upgrade()
        app.appbuilder.sm.sync_roles()
        db.session.remove()
        url = db.engine.url.render_as_string(hide_password=False)
    folder = tempfile.mkdtemp(prefix="ymcs-template-")
    _TEMPLATE["url"], drop = create_test_database(folder)
    _TEMPLATE["drop"] = lambda: (drop(), shutil.rmtree(folder, ignore_errors=True))
    _copy_database(url, _TEMPLATE["url"])


# {"url": the migrated database later ones copy, "drop": its removal (pytest_unconfigure)}
_TEMPLATE = {}


def pytest_unconfigure(config):
    if "drop" in _TEMPLATE:
        _TEMPLATE.pop("drop")()


def _copy_database(source_url, target_url):
    """Schema and rows of one empty-target database copied into another of the same kind."""
    import sqlalchemy

    source, target = sqlalchemy.make_url(source_url), sqlalchemy.make_url(target_url)
    if source.get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(source.database)) as src, \
                contextlib.closing(sqlite3.connect(target.database)) as dst:
            src.backup(dst)
        return
    engine = sqlalchemy.create_engine(target)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET SESSION foreign_key_checks = 0")
            tables = conn.exec_driver_sql(
                "SELECT table_name, table_type FROM information_schema.tables"
                " WHERE table_schema = %s", (source.database,)).all()
            for name, kind in tables:
                src = f"`{source.database}`.`{name}`"
                if kind == "SEQUENCE":  # FAB's ids on MariaDB: same definition, same position
                    ddl = conn.exec_driver_sql(f"SHOW CREATE SEQUENCE {src}").one()[1]
                    position = conn.exec_driver_sql(
                        f"SELECT next_not_cached_value FROM {src}").scalar()
                    conn.exec_driver_sql(ddl)
                    conn.exec_driver_sql(f"SELECT SETVAL(`{name}`, {position}, 0)")
                else:  # the DDL carries the indexes, foreign keys and AUTO_INCREMENT position
                    conn.exec_driver_sql(
                        conn.exec_driver_sql(f"SHOW CREATE TABLE {src}").one()[1])
                    conn.exec_driver_sql(f"INSERT INTO `{name}` SELECT * FROM {src}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url, drop = create_test_database(tmp_path_factory.mktemp("db"))
    yield url
    drop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # A file store of the session's own: not the checkout's instance/ folder, which every
    # xdist worker (and every other run from the same checkout) would share.
    app = make_app(database_url, FILE_STORE_DIR=str(tmp_path_factory.mktemp("files")))
    migrate_and_sync(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def tree(app):
    """The shared standard tree: tests that change it build their own with fresh_tree."""
    with app.app_context():
        t = build_tree(db.session, "std")
        return ids_of(t)


@pytest.fixture
def fresh_tree(app):
    with app.app_context():
        return ids_of(build_tree(db.session, f"f{uuid.uuid4().hex[:6]}"))


def ids_of(t):
    """Plain ids and emails, so tests do not carry ORM objects across sessions."""
    from types import SimpleNamespace

    out = SimpleNamespace(prefix=t.prefix, password=t.password)
    for key, value in vars(t).items():
        if hasattr(value, "id"):
            setattr(out, key, value.id)
            if hasattr(value, "username"):
                setattr(out, f"{key}_email", value.username)
    return out


@pytest.fixture
def smtp_server():
    """A real SMTP server on the suite's relay port, collecting what arrives."""
    server = SmtpServer(SMTP_PORT)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def db_session(app):
    with app.app_context():
        yield db.session
        db.session.rollback()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html):
    match = _CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """A logged-in test client that posts forms with their CSRF token, as a browser does."""

    def __init__(self, app, email=None, password=None):
        self.client = app.test_client()
        self.token = None
        if email:
            self.login(email, password)

    def login(self, email, password):
        page = self.client.get("/login/")
        self.token = csrf_token_from(page.get_data(as_text=True))
        response = self.client.post(
            "/login/", data={"username": email, "password": password,
                             "csrf_token": self.token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert "/login" not in response.headers["Location"], "login failed"
        return response

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def login(app):
    def _login(email, password):
        return Browser(app, email, password)

    return _login
