"""The helper process that reads big exports on MariaDB (app/exports/reader.py): the rows it
gives, its errors, its end; with either driver a URL may name. Split from test_exports.py,
whose orders helper it uses."""

import os

import pytest
from sqlalchemy import select

from app.exports import reader as export_reader
from app.extensions import db
from app.models import OrderStatus
from app.orders import exports as order_exports
from app.orders.queries import STATEMENTS, OrderCriteria

from ..conftest import database_kind
from .test_exports import _orders

needs_mariadb = pytest.mark.skipif(database_kind() != "mariadb",
                                   reason="the reader process serves MariaDB only")


def _reader_children():
    """Our child processes running app/exports/reader.py."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if ppid == os.getpid() and b"exports/reader.py" in cmdline:
            found.append(int(pid))
    return found


def test_in_thread_reading_everywhere_but_mariadb(app):
    with app.app_context():
        assert export_reader.can_read_aside(db.engine) == (database_kind() == "mariadb")


@needs_mariadb
@pytest.mark.parametrize("driver", ["mysqldb", "pymysql"])
def test_the_reader_process_gives_the_rows_the_query_gives(app, db_session, shop, driver):
    """With either driver a MariaDB URL may name (mysqlclient in production, PyMySQL URLs
    still accepted): the child speaks the URL's own."""
    from sqlalchemy import create_engine

    ids = _orders(db_session, shop, 5, status=OrderStatus.pending)
    sheet = order_exports.export_sheet(STATEMENTS, OrderCriteria(status="pending"),
                                       shop.principal, "en")
    engine = create_engine(db.engine.url.set(drivername=f"mysql+{driver}"))
    try:
        assert export_reader.can_read_aside(engine)
        with export_reader.rows_read_aside(engine, sheet.query, batch=2) as rows:
            aside = list(rows)
    finally:
        engine.dispose()
    in_thread = [tuple(row) for row in db_session.execute(sheet.query)]
    assert aside == in_thread and [row[0] for row in aside] == ids[::-1]
    assert _reader_children() == []


@needs_mariadb
def test_a_reader_error_reaches_the_worker(app):
    from sqlalchemy import text

    with app.app_context(), pytest.raises(export_reader.ExportReadError, match="no_such"):
        with export_reader.rows_read_aside(
                db.engine, select(text("id")).select_from(text("no_such_table"))) as rows:
            list(rows)
    assert _reader_children() == []


@needs_mariadb
def test_leaving_early_ends_the_reader(app, db_session, shop):
    _orders(db_session, shop, 30)
    sheet = order_exports.export_sheet(STATEMENTS, OrderCriteria(), shop.principal, "en")
    with export_reader.rows_read_aside(db.engine, sheet.query, batch=5) as rows:
        assert next(iter(rows))
        # One reader at most: with 30 short rows it may already have written them all into
        # the pipe and ended (CI saw 0 once); what matters is that none is left behind.
        assert len(_reader_children()) <= 1
    assert _reader_children() == []
