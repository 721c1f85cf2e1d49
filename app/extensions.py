"""Extension singletons, unbound: create_app() binds them. Nothing happens at import time.

The AppBuilder is deliberately NOT here: a module-level AppBuilder breaks a second
create_app() in one process, so create_app() makes a fresh one each time.
"""

from flask_appbuilder.utils.legacy import get_sqla_class
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()


def sqlite_pragmas(dbapi_connection, _record):
    """On every SQLite connection (the portal's and the ACS's own engine): WAL lets the
    operation log and the scheduler write while a request reads."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
