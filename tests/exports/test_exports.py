"""Excel exports without HTTP: the streaming writer (read back with openpyxl), the two export
kinds, and the jobs (inline and queued runs, scope, filters, progress, failure, stale runs,
pruning). HTTP is in tests/exports/test_views.py."""

import datetime
import os
import uuid
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from sqlalchemy import select

from app.core.scope import Principal
from app.exports import jobs as export_jobs
from app.exports.xlsx import DATE, DATETIME, NUMBER, SAMPLE_ROWS, TEXT, Column, write_xlsx
from app.extensions import db
from app.models import (
    AccountKind,
    Channel,
    Enterprise,
    ExportJob,
    ExportStatus,
    Order,
    OrderStatus,
    utcnow,
)
from app.orders import exports as order_exports
from app.orders.queries import ORDERS, STATEMENTS, OrderCriteria
from app.orders.rules import last_day_of_service
from app.tenancy import rules as tenants

from ..conftest import ids_of
from ..helpers import new_order, new_package, run_export_ticks
from ..tree import build_tree

T0 = datetime.datetime(2026, 3, 1, 9, 30, 15)
D0 = datetime.date(2026, 4, 1)
RISKY = ["=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "#N/A",
         "=HYPERLINK(\"http://x\")"]


# --- the writer ------------------------------------------------------------------------------


def _read(path):
    return openpyxl.load_workbook(path).active


COLUMNS = [Column("ID", NUMBER), Column("Time", DATETIME), Column("Name", TEXT),
           Column("Day", DATE)]


def test_header_is_bold_and_frozen_and_dates_are_dates(tmp_path):
    path = tmp_path / "a.xlsx"
    written = write_xlsx(path, COLUMNS, [(1, T0, "Acme", D0), (2, None, None, None)])
    assert written == 2
    sheet = _read(path)
    assert [c.value for c in sheet[1]] == ["ID", "Time", "Name", "Day"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].is_date and sheet["B2"].value == T0
    assert "yyyy" in sheet["B2"].number_format and "h" in sheet["B2"].number_format
    assert sheet["D2"].is_date and sheet["D2"].value.date() == D0
    assert sheet["A2"].value == 1 and sheet["A2"].data_type == "n"
    assert sheet.max_row == 3 and sheet["C3"].value is None


def test_columns_are_sized_from_the_header_and_values_and_capped(tmp_path):
    path = tmp_path / "w.xlsx"
    columns = [Column("ID", NUMBER), Column("Name", TEXT, max_width=30),
               Column("A much longer header", TEXT), Column("企业名称", TEXT)]
    rows = [(1, "x" * 100, "y", "z"), (22222, "short", "", None)]
    write_xlsx(path, columns, rows)
    widths = {k: d.width for k, d in _read(path).column_dimensions.items()}
    assert widths["A"] == 7  # "22222" + 2, but never under the minimum of 6
    assert widths["B"] == 30  # capped
    assert widths["C"] == len("A much longer header") + 2
    assert widths["D"] == 10  # four wide characters count double


def test_values_that_would_be_formulas_are_written_as_text(tmp_path):
    path = tmp_path / "f.xlsx"
    rows = [(i, T0, value, D0) for i, value in enumerate(RISKY, 1)]
    rows.append((-5, T0, "plain", D0))  # a negative number is not text
    write_xlsx(path, COLUMNS, rows)
    sheet = _read(path)
    for row, value in enumerate(RISKY, 2):
        cell = sheet.cell(row=row, column=3)
        assert cell.data_type == "s", value
        assert cell.value == value  # the leading character is kept
        assert cell.quotePrefix, value
    last = sheet.cell(row=len(RISKY) + 2, column=1)
    assert last.value == -5 and last.data_type == "n"
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # not one formula in the sheet


def test_characters_xml_cannot_carry_are_dropped_not_fatal(tmp_path):
    path = tmp_path / "c.xlsx"
    write_xlsx(path, COLUMNS, [(1, T0, "bad\x01name\x1f", D0), (2, T0, "=\x02x", D0)])
    sheet = _read(path)
    assert sheet["C2"].value == "badname"
    assert sheet["C3"].value == "=x" and sheet["C3"].data_type == "s"


def test_rows_stream_past_the_sample_with_progress(tmp_path):
    path = tmp_path / "s.xlsx"
    total = SAMPLE_ROWS * 2 + 37
    seen = []
    rows = ((i, T0, f"name {i}", D0) for i in range(total))  # a generator, read once
    written = write_xlsx(path, COLUMNS, rows, progress=seen.append, progress_every=400)
    assert written == total
    assert seen == [400, 800, total]
    sheet = openpyxl.load_workbook(path, read_only=True).active
    values = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == list(range(total))


def test_an_empty_export_still_has_its_header(tmp_path):
    path = tmp_path / "e.xlsx"
    assert write_xlsx(path, COLUMNS, iter(())) == 0
    sheet = _read(path)
    assert [c.value for c in sheet[1]] == ["ID", "Time", "Name", "Day"]


# --- the export kinds --------------------------------------------------------------------------


EVERYONE = Principal(None, AccountKind.platform)


def test_headers_are_translated_into_the_job_language(app):
    with app.app_context():
        zh = order_exports.export_sheet(STATEMENTS, OrderCriteria(), EVERYONE, "zh")
        en = order_exports.export_sheet(STATEMENTS, OrderCriteria(), EVERYONE, "en")
    assert en.columns[2].header == "Enterprise"
    assert zh.columns[2].header == "企业"
    assert [c.header for c in en.columns] == ["Order ID", "Order Time", "Enterprise",
                                              "Order Content", "Status", "Duration (months)"]


def test_unknown_kind_is_refused(app):
    with app.app_context(), pytest.raises(ValueError):
        order_exports.export_sheet("devices", OrderCriteria(), EVERYONE, "en")


def test_file_names_carry_kind_and_time():
    when = datetime.datetime(2026, 11, 26, 9, 5)
    assert order_exports.file_name(ORDERS, when) == "orders-20261126-0905.xlsx"


# --- jobs --------------------------------------------------------------------------------------


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    """A file store of the test's own."""
    folder = tmp_path / "store"
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(folder))
    return folder


def _order(session, enterprise_id, channel_id, package=None, quantity=2, months=12,
           status=OrderStatus.effective, created_on=T0, effective_on=D0, reseller="Resale"):
    """An order with this module's values (what its exports must show); its id."""
    return new_order(session, enterprise_id, channel_id=channel_id, package=package,
                     quantity=quantity, months=months, status=status, created_on=created_on,
                     effective_on=effective_on, reseller=reseller).id


def _export(session, shop, kind=STATEMENTS, criteria=None, language="en"):
    return export_jobs.request_export(session, shop.account_id, shop.principal, kind,
                                      criteria or OrderCriteria(), language)


def _reload(session, job):
    """The job as the worker left it: end this session's transaction first (on MariaDB a
    transaction keeps reading the snapshot it began with)."""
    session.commit()
    session.refresh(job)
    return job


def _sheet_ids(path):
    sheet = openpyxl.load_workbook(path, read_only=True).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def _orders(session, shop, n, **values):
    package = new_package(session)
    ids = [_order(session, shop.id, shop.channel_id, package=package, **values)
           for _ in range(n)]
    session.commit()
    return ids


def test_small_export_is_written_at_once_with_the_list_rows(app, db_session, shop, store):
    package = new_package(db_session, 5, name=f"Gold {uuid.uuid4().hex[:6]}")
    order_id = _order(db_session, shop.id, shop.channel_id, package=package, quantity=3)
    db_session.commit()
    job = _export(db_session, shop, kind=STATEMENTS)
    assert job.status == ExportStatus.done
    assert job.rows_total == job.rows_done == 1
    assert job.finished_on is not None and job.error is None
    path = export_jobs.export_path(job)
    assert os.path.isfile(path) and os.path.dirname(path) == str(store / "exports")
    assert export_jobs.download_name(job).startswith("statements-")
    assert not [n for n in os.listdir(store / "exports") if n.endswith(".part")]
    sheet = _read(path)
    assert [c.value for c in sheet[2]] == [
        order_id, T0, shop.name, f"{package.name} × 3 (15 devices)", "Effective", 12]
    assert sheet["B2"].is_date


def test_order_export_has_every_order_column(app, db_session, shop, mtree, store):
    package = new_package(db_session, 4)
    order_id = _order(db_session, shop.id, shop.channel_id, package=package, quantity=2,
                      months=6, status=OrderStatus.pending, reseller="=cmd|' /C calc'!A0")
    db_session.commit()
    job = _export(db_session, shop, kind=ORDERS)
    sheet = _read(export_jobs.export_path(job))
    order = db_session.get(Order, order_id)
    assert [c.value for c in sheet[1]] == [
        "Order ID", "Order Time", "Enterprise", "Distributor", "Reseller", "Package",
        "Quantity", "Max Devices", "Service Duration (months)", "Effective Date",
        "Expiration Date", "Status"]
    values = [c.value for c in sheet[2]]
    assert values[:9] == [order_id, T0, shop.name, f"{mtree.prefix}-C", "=cmd|' /C calc'!A0",
                          package.name, 2, 8, 6]
    assert values[9].date() == D0 and sheet["J2"].is_date
    # the last day of service, as the list shows it
    assert values[10].date() == last_day_of_service(order.expires_on) and sheet["K2"].is_date
    assert values[11] == "Not yet effective"
    assert sheet["E2"].data_type == "s" and sheet["E2"].quotePrefix


def test_names_that_look_like_formulas_stay_text(app, db_session, mtree, store):
    channel = tenants.create_channel(db_session, f"@SUM({uuid.uuid4().hex[:6]})",
                                     parent=db_session.get(Channel, mtree.C))
    db_session.flush()
    enterprise = Enterprise(name=f"=HYPERLINK(\"x\",\"{uuid.uuid4().hex[:6]}\")",
                            channel=channel)
    db_session.add(enterprise)
    db_session.flush()
    package = new_package(db_session, name=f"+{uuid.uuid4().hex[:6]}")
    _order(db_session, enterprise.id, channel.id, package=package)
    db_session.commit()
    shop = SimpleNamespace(account_id=mtree.c, principal=Principal(
        mtree.c, AccountKind.enterprise, enterprise_id=enterprise.id))
    sheet = _read(export_jobs.export_path(_export(db_session, shop, kind=ORDERS)))
    row = list(sheet[2])
    for cell, expected in zip(row[2:6], [enterprise.name, channel.name, "Resale",
                                         package.name], strict=True):
        assert cell.value == expected and cell.data_type == "s"
    assert row[2].quotePrefix and row[3].quotePrefix and row[5].quotePrefix


def _tree_orders(session, t):
    """One order for each enterprise of the tree (S's included), oldest first."""
    ids = {}
    for i, key in enumerate(["E", "ER", "R", "EB", "SE"]):
        channel = {"EB": t.B, "SE": t.S}.get(key, t.C)
        ids[key] = _order(session, getattr(t, key), channel,
                          created_on=T0 + datetime.timedelta(minutes=i))
    session.commit()
    return ids


def test_export_shows_only_the_principal_scope(app, db_session, fresh_tree, store,
                                               monkeypatch):
    t = fresh_tree
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 10**6)  # the admin sees every test's
    ids = _tree_orders(db_session, t)
    other = _tree_orders(db_session, _other_tree(app))  # a whole other tree's orders

    def exported(who, kind, channel_id=None, enterprise_id=None):
        shop = SimpleNamespace(account_id=getattr(t, who), principal=Principal(
            getattr(t, who), kind, channel_id, enterprise_id))
        return _sheet_ids(export_jobs.export_path(_export(db_session, shop)))

    in_a = [ids[k] for k in ("EB", "R", "ER", "E")]  # newest first; not S's SE
    assert exported("a", AccountKind.channel_master, t.A) == in_a
    assert exported("s", AccountKind.channel_master, t.S) == [ids["SE"]]
    assert exported("c", AccountKind.channel_master, t.C) == [ids["R"], ids["ER"], ids["E"]]
    assert exported("ent", AccountKind.enterprise, enterprise_id=t.E) == [ids["E"]]
    # A's sub-account is granted B's subtree: every order under A but none of A's own.
    assert exported("sub", AccountKind.channel_sub, t.A) == in_a
    everything = set(exported("admin", AccountKind.platform))
    assert set(ids.values()) | set(other.values()) <= everything


def _other_tree(app):
    return ids_of(build_tree(db.session, f"o{uuid.uuid4().hex[:6]}"))


def test_export_applies_the_list_criteria(app, db_session, shop, store):
    early = _order(db_session, shop.id, shop.channel_id, status=OrderStatus.pending,
                   created_on=datetime.datetime(2026, 1, 5, 10),
                   effective_on=datetime.date(2026, 1, 10), months=1)
    late = _order(db_session, shop.id, shop.channel_id, status=OrderStatus.effective,
                  created_on=datetime.datetime(2026, 2, 5, 10), months=24)
    cancelled = _order(db_session, shop.id, shop.channel_id, status=OrderStatus.cancelled,
                       created_on=datetime.datetime(2026, 2, 6, 10), months=6)
    db_session.commit()

    def ids(**criteria):
        job = _export(db_session, shop, criteria=OrderCriteria(**criteria))
        return _sheet_ids(export_jobs.export_path(job))

    assert ids() == [cancelled, late, early]
    assert ids(status="pending") == [early]
    assert ids(ordered_from=datetime.date(2026, 2, 1)) == [cancelled, late]
    assert ids(ordered_to=datetime.date(2026, 2, 5)) == [late, early]
    assert ids(expires_to=datetime.date(2026, 3, 1)) == [early]
    assert ids(q=shop.name[:8]) == [cancelled, late, early]
    assert ids(q=str(early)) == [early]
    assert ids(desc=False) == [early, late, cancelled]
    assert ids(sort="duration_months") == [late, cancelled, early]
    assert ids(q="no such enterprise") == []


def test_reading_in_index_order_gives_the_same_rows(app, db_session, shop):
    ids = _orders(db_session, shop, 3, months=6)
    for criteria in (OrderCriteria(), OrderCriteria(sort="duration_months", desc=False)):
        walked, gathered = (
            [row[0] for row in db_session.execute(order_exports.export_sheet(
                STATEMENTS, criteria, shop.principal, "en", walk_in_order=walk).query)]
            for walk in (True, False))
        assert walked == gathered == (ids[::-1] if criteria.desc else ids)


def test_a_translation_may_reorder_the_order_content(app, db_session, shop, store,
                                                     monkeypatch):
    package = new_package(db_session, 5, name=f"Gold {uuid.uuid4().hex[:6]}")
    _order(db_session, shop.id, shop.channel_id, package=package, quantity=3)
    db_session.commit()
    reordered = {order_exports.CONTENT_TEMPLATE: "%(devices)s 台设备：%(package)s ×%(quantity)s"}
    monkeypatch.setattr(order_exports, "gettext", lambda text: reordered.get(text, text))
    sheet = _read(export_jobs.export_path(_export(db_session, shop)))
    assert sheet["D2"].value == f"15 台设备：{package.name} ×3"


def test_big_export_is_queued_then_written_by_the_scheduler_tick(app, db_session, shop, store,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 2)
    ids = _orders(db_session, shop, 3)
    job = _export(db_session, shop)
    assert job.status == ExportStatus.queued and job.rows_total is None
    assert job.file_name is None and not (store / "exports").exists()
    run_export_ticks(app, job.id)
    _reload(db_session, job)
    assert job.status == ExportStatus.done, job.error
    assert job.rows_done == job.rows_total == 3
    assert _sheet_ids(export_jobs.export_path(job)) == ids[::-1]
    with app.app_context():  # a second tick finds nothing left to start
        assert job.id not in export_jobs.start_exports_job()


def test_a_queued_export_is_claimed_once(app, db_session, shop, store, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)
    _orders(db_session, shop, 2)
    job = _export(db_session, shop)
    assert job.status == ExportStatus.queued
    assert export_jobs.claim_export(db_session, job.id)
    assert not export_jobs.claim_export(db_session, job.id)
    export_jobs.run_export(app, job.id)
    _reload(db_session, job)
    assert job.status == ExportStatus.done
    export_jobs.run_export(app, job.id)  # run twice: a finished job is left alone
    _reload(db_session, job)
    assert job.status == ExportStatus.done and os.path.isfile(export_jobs.export_path(job))


def test_an_export_with_no_rows_is_done_with_a_header_only_file(app, db_session, shop, store):
    job = _export(db_session, shop)
    assert job.status == ExportStatus.done and job.rows_total == job.rows_done == 0
    assert _sheet_ids(export_jobs.export_path(job)) == []


def _running_job(session, shop, **values):
    job = ExportJob(account_id=shop.account_id, kind=STATEMENTS,
                    criteria=OrderCriteria().to_json(), principal_kind="enterprise",
                    principal_enterprise_id=shop.id, status=ExportStatus.running,
                    rows_done=0, created_on=utcnow(), **values)
    session.add(job)
    session.commit()
    return job


def test_heartbeat_writes_progress_and_notices_a_cancelled_job(app, db_session, shop):
    job = _running_job(db_session, shop, heartbeat_at=utcnow())
    beat = export_jobs._Heartbeat(db.engine, job.id)
    beat.progress(1234)
    beat.rows_total = 5000
    beat.beat()
    _reload(db_session, job)
    assert (job.rows_done, job.rows_total) == (1234, 5000)
    with db.engine.begin() as conn:
        assert export_jobs.fail_export(conn, job.id, export_jobs.STOPPED)
    beat.beat()
    assert beat.cancelled
    with pytest.raises(export_jobs.ExportCancelled):
        beat.progress(1300)


def test_failed_write_marks_the_job_failed_and_leaves_no_file(app, db_session, shop, tmp_path,
                                                              monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store should be")
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(blocker))
    _orders(db_session, shop, 1)
    job = _export(db_session, shop)
    assert job.status == ExportStatus.failed
    assert job.error.startswith(export_jobs.WRITE_FAILED)
    assert job.file_name is None and job.finished_on is not None
    assert blocker.read_text() == "a file where the store should be"
    with app.test_request_context():
        assert export_jobs.error_text(job).startswith("The export file could not be written")


def test_failure_mid_file_leaves_no_file_behind(app, db_session, shop, store, monkeypatch):
    _orders(db_session, shop, SAMPLE_ROWS + 20)
    real = order_exports.export_sheet
    temp_files = list(ALL_TEMP_FILES)

    def breaking_sheet(*args):
        # A fault after the first rows are written (to openpyxl's temporary sheet file).
        sheet = real(*args)
        calls = []

        def convert(row):
            calls.append(1)
            if len(calls) > SAMPLE_ROWS + 10:
                raise RuntimeError("the database went away")
            return sheet.convert(row)

        return order_exports.Sheet(sheet.columns, sheet.query, convert)

    monkeypatch.setattr(order_exports, "export_sheet", breaking_sheet)
    job = _export(db_session, shop)
    assert job.status == ExportStatus.failed and job.error == export_jobs.FAILED
    assert job.file_name is None
    assert not (store / "exports").exists() or list((store / "exports").iterdir()) == []
    assert ALL_TEMP_FILES == temp_files  # openpyxl's temporary sheet is gone too


def test_a_file_that_cannot_be_saved_is_removed(app, db_session, shop, store, monkeypatch):
    _orders(db_session, shop, 1)
    (store / "exports").mkdir(parents=True)
    real_save = openpyxl.Workbook.save

    def save_then_fail(self, target):
        real_save(self, target)  # the .part file is complete on disk ...
        raise OSError(28, "No space left on device")  # ... and then the disk is full

    monkeypatch.setattr(openpyxl.Workbook, "save", save_then_fail)
    job = _export(db_session, shop)
    assert job.status == ExportStatus.failed
    assert job.error == export_jobs.WRITE_FAILED + "\nNo space left on device"
    assert list((store / "exports").iterdir()) == []


def test_stale_running_export_is_marked_failed(app, db_session, shop):
    now = utcnow()
    dead = _running_job(db_session, shop,
                        heartbeat_at=now - export_jobs.STALE_AFTER - datetime.timedelta(1))
    alive = _running_job(db_session, shop, heartbeat_at=now)
    assert dead.id in export_jobs.fail_stale_exports(db_session)
    _reload(db_session, dead)
    _reload(db_session, alive)
    assert dead.status == ExportStatus.failed and dead.error == export_jobs.STOPPED
    assert alive.status == ExportStatus.running
    with app.test_request_context():
        assert "process writing it ended" in export_jobs.error_text(dead)
    with db.engine.begin() as conn:  # leave no running row for other tests' ticks
        export_jobs.fail_export(conn, alive.id, export_jobs.STOPPED)


def test_prune_deletes_old_exports_and_their_files(app, db_session, shop, store):
    _orders(db_session, shop, 1)
    old, recent = _export(db_session, shop), _export(db_session, shop)
    old_path, recent_path = export_jobs.export_path(old), export_jobs.export_path(recent)
    hours = app.config["EXPORT_RETENTION_HOURS"]
    old.finished_on = utcnow() - datetime.timedelta(hours=hours + 1)
    db_session.commit()
    stray = store / "exports" / "999999-orders-20200101-0000.xlsx.part"
    stray.write_bytes(b"half")
    long_ago = (utcnow() - datetime.timedelta(hours=hours + 2)).replace(
        tzinfo=datetime.UTC).timestamp()
    os.utime(stray, (long_ago, long_ago))
    old_id = old.id

    with app.app_context():
        export_jobs.prune_exports_job()
    db_session.commit()  # a fresh snapshot
    assert db_session.get(ExportJob, old_id) is None and not os.path.exists(old_path)
    assert db_session.get(ExportJob, recent.id) is not None and os.path.isfile(recent_path)
    assert not stray.exists()


def test_request_export_refuses_an_unknown_kind_or_a_stranger(app, db_session, shop, mtree):
    with pytest.raises(ValueError):
        export_jobs.request_export(db_session, shop.account_id, shop.principal, "devices",
                                   OrderCriteria(), "en")
    with pytest.raises(ValueError):  # someone else's scope
        export_jobs.request_export(db_session, mtree.a, shop.principal, STATEMENTS,
                                   OrderCriteria(), "en")
    assert db_session.scalar(select(ExportJob.id).where(
        ExportJob.principal_enterprise_id == shop.id)) is None
