"""A queued (big) export is written by a lean process of its own (app/exports/writer.py):
the right workbook for the tenant, no Flask in that process, and a clear failure when the
process cannot write or dies."""

import datetime
import json
import os
import pickle
import subprocess
import sys
import uuid

import openpyxl
import pytest

from app.core.scope import Principal
from app.exports import jobs as export_jobs
from app.exports import writer as lean_writer
from app.extensions import db
from app.models import AccountKind, ExportStatus, Order, OrderStatus
from app.orders import exports as order_exports
from app.orders.queries import ORDERS, STATEMENTS, OrderCriteria
from app.orders.rules import last_day_of_service

from ..conftest import ids_of
from ..helpers import new_order, new_package, run_export_ticks
from ..tree import build_tree

T0 = datetime.datetime(2026, 3, 1, 9, 30, 15)
D0 = datetime.date(2026, 4, 1)
WRITER = os.path.abspath(lean_writer.__file__)
# What the lean process must never load: the web framework and the app's models.
HEAVY = ("flask", "flask_appbuilder", "flask_babel", "flask_sqlalchemy", "flask_login",
         "app.models", "app.extensions")


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    folder = tmp_path / "store"
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(folder))
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)  # every export is queued
    return folder


@pytest.fixture
def trees(app):
    with app.app_context():
        return (ids_of(build_tree(db.session, f"w{uuid.uuid4().hex[:6]}")),
                ids_of(build_tree(db.session, f"v{uuid.uuid4().hex[:6]}")))


def _queue(session, account_id, principal, kind=STATEMENTS, criteria=None):
    job = export_jobs.request_export(session, account_id, principal, kind,
                                     criteria or OrderCriteria(), "en")
    assert job.status == ExportStatus.queued
    return job


def _finished(session, job):
    session.commit()  # MariaDB: see what the other process wrote
    session.refresh(job)
    return job


def _sheet(job):
    return openpyxl.load_workbook(export_jobs.export_path(job)).active


def _orders_of(session, tree):
    package = new_package(session, 5, name=f"Lean {uuid.uuid4().hex[:6]}")
    ids = {}
    for key in ("E", "ER", "SE"):
        ids[key] = new_order(session, getattr(tree, key), channel_id=None, package=package,
                             quantity=3, months=12, status=OrderStatus.effective,
                             created_on=T0, effective_on=D0, reseller="Resale").id
    session.commit()
    return ids, package


def test_a_queued_export_is_the_tenants_workbook(app, db_session, trees, store):
    mine, other = trees
    ids, package = _orders_of(db_session, mine)
    theirs, _ = _orders_of(db_session, other)
    c_admin = Principal(mine.c, AccountKind.channel_master, mine.C)
    job = _queue(db_session, mine.c, c_admin)
    run_export_ticks(app, job.id)
    job = _finished(db_session, job)
    assert job.status == ExportStatus.done, job.error
    assert job.rows_done == job.rows_total == 2
    sheet = _sheet(job)
    exported = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert exported == [ids["ER"], ids["E"]]  # newest first; not S's, nor the other tree's
    assert not set(theirs.values()) & set(exported)
    assert export_jobs.download_name(job).startswith("statements-")
    row = [cell.value for cell in sheet[3]]
    assert row[0] == ids["E"] and row[1] == T0 and sheet["B3"].is_date
    assert row[3:] == [f"{package.name} × 3 (15 devices)", "Effective", 12]
    assert not [n for n in os.listdir(store / "exports") if n.endswith(".part")]


def test_a_queued_order_export_has_dates_and_the_criteria(app, db_session, trees, store):
    mine, _ = trees
    ids, _package = _orders_of(db_session, mine)
    ent = Principal(mine.ent, AccountKind.enterprise, enterprise_id=mine.E)
    job = _queue(db_session, mine.ent, ent, kind=ORDERS,
                 criteria=OrderCriteria(status="effective"))
    run_export_ticks(app, job.id)
    sheet = _sheet(_finished(db_session, job))
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == [ids["E"]]
    order = db_session.get(Order, ids["E"])
    assert rows[0][9] == datetime.datetime(2026, 4, 1) and sheet["J2"].is_date  # effective
    # the last day of service, as the order list shows it (orders.rules.last_day_of_service)
    assert rows[0][10].date() == last_day_of_service(order.expires_on) and sheet["K2"].is_date


def _spec(session, job, folder):
    """What the app's worker hands the writer process for ``job`` (claimed)."""
    sheet = order_exports.export_sheet(job.kind, OrderCriteria.from_json(job.criteria),
                                       export_jobs.job_principal(job), job.language)
    return lean_writer.describe(db.engine, job.id, sheet.query, sheet.columns, str(folder),
                                f"{job.id}-lean.xlsx", None,
                                {"write": export_jobs.WRITE_FAILED, "other": export_jobs.FAILED})


def test_the_writer_process_loads_no_flask(app, db_session, trees, store):
    mine, _ = trees
    ids, _package = _orders_of(db_session, mine)
    job = _queue(db_session, mine.ent, Principal(mine.ent, AccountKind.enterprise,
                                                 enterprise_id=mine.E))
    assert export_jobs.claim_export(db_session, job.id)
    spec = _spec(db_session, job, store / "exports")
    # The writer's own script, run as the app runs it, then asked what it had loaded.
    code = ("import json, runpy, sys\n"
            "try:\n"
            f"    runpy.run_path({WRITER!r}, run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-P", "-c", code], input=pickle.dumps(spec),
                          capture_output=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report_line, modules_line = done.stdout.decode().strip().splitlines()[-2:]
    report = json.loads(report_line)
    assert report["outcome"] == "done" and report["rows"] == 1
    modules = set(json.loads(modules_line))
    assert "openpyxl" in modules and "sqlalchemy" in modules
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]
    assert _finished(db_session, job).status == ExportStatus.done
    assert [r[0].value for r in _sheet(job).iter_rows(min_row=2)] == [ids["E"]]


def test_a_queued_export_that_cannot_be_stored_fails_with_the_write_error(
        app, db_session, trees, tmp_path, monkeypatch):
    mine, _ = trees
    _orders_of(db_session, mine)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store should be")
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(blocker))
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)
    job = _queue(db_session, mine.ent, Principal(mine.ent, AccountKind.enterprise,
                                                 enterprise_id=mine.E))
    run_export_ticks(app, job.id)
    job = _finished(db_session, job)
    assert job.status == ExportStatus.failed and job.file_name is None
    assert job.error.startswith(export_jobs.WRITE_FAILED)  # said by the writer process
    assert blocker.read_text() == "a file where the store should be"


def test_a_writer_process_that_dies_fails_the_job(app, db_session, trees, store, monkeypatch):
    mine, _ = trees
    _orders_of(db_session, mine)
    job = _queue(db_session, mine.ent, Principal(mine.ent, AccountKind.enterprise,
                                                 enterprise_id=mine.E))
    assert export_jobs.claim_export(db_session, job.id)
    # A process that ends at once, saying nothing (as one killed for memory would).
    with monkeypatch.context() as patch:
        patch.setattr(lean_writer.sys, "executable", "/bin/false")
        export_jobs.run_export(app, job.id)
    job = _finished(db_session, job)
    assert job.status == ExportStatus.failed and job.error == export_jobs.FAILED
    assert job.file_name is None
    assert not (store / "exports").exists() or list((store / "exports").iterdir()) == []
