"""The Exports screens over HTTP: an export started from a list, its progress page and status
JSON, the download, the own-exports list, and 404 for another account's export or a garbage
id. The jobs themselves are tested in tests/exports/test_exports.py."""

import datetime
import io
import os
import re
import uuid

import openpyxl
import pytest

from app.core.scope import Principal
from app.exports import jobs as export_jobs
from app.extensions import db
from app.models import AccountKind, ExportJob, ExportStatus, OrderStatus
from app.orders.queries import STATEMENTS, OrderCriteria

from ..conftest import ids_of
from ..helpers import new_order, new_package, run_export_ticks
from ..tree import build_tree

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GARBAGE_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999999", "%20", "2147483000"]


@pytest.fixture(scope="module")
def vtree(app):
    """This module's own tree, with two orders under A (none under S)."""
    with app.app_context():
        t = build_tree(db.session, f"v{uuid.uuid4().hex[:6]}")
        package = new_package(db.session)
        for enterprise in (t.E, t.EB):
            new_order(db.session, enterprise.id, package=package, reseller="Resale",
                      effective_on=datetime.date(2026, 5, 1), status=OrderStatus.pending)
        db.session.commit()
        return ids_of(t)


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(tmp_path / "store"))
    return tmp_path / "store"


@pytest.fixture(scope="module")
def browsers(app, vtree):
    """Logged in once per module (each login hashes a password)."""
    from ..conftest import Browser

    return {who: Browser(app, getattr(vtree, f"{who}_email"), vtree.password)
            for who in ("a", "s", "ent")}


def _start_export(browser, list_path="/statementmodelview"):
    page = browser.get(f"{list_path}/list/")
    assert page.status_code == 200
    response = browser.post(f"{list_path}/export", data={})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    match = re.search(r"/exports/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _job_of(app, vtree, who="s", status=ExportStatus.done):
    """An export row of another account, made directly."""
    with app.app_context():
        job = ExportJob(account_id=getattr(vtree, who), kind=STATEMENTS,
                        criteria=OrderCriteria().to_json(), principal_kind="channel_master",
                        principal_channel_id=vtree.S, status=status, rows_done=0)
        db.session.add(job)
        db.session.commit()
        return job.id


def test_owner_follows_progress_and_downloads_a_valid_xlsx(app, vtree, browsers, store):
    a = browsers["a"]
    job_id = _start_export(a)  # two rows: written at once
    page = a.get(f"/exports/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="export-progress"' in html and f"/exports/{job_id}/status" in html

    status = a.get(f"/exports/{job_id}/status")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    state = status.get_json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["rows_done"] == state["rows_total"] == 2
    assert state["download_url"] == f"/exports/{job_id}/download"
    assert re.fullmatch(r"statements-\d{8}-\d{4}\.xlsx", state["file_name"])

    download = a.get(state["download_url"])
    assert download.status_code == 200
    assert download.mimetype == XLSX
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename={state['file_name']}")
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).active
    assert sheet["A1"].value == "Order ID" and sheet["A1"].font.b
    assert sheet.max_row == 3


def test_the_list_shows_only_the_accounts_own_exports(app, vtree, browsers, store):
    mine = _start_export(browsers["a"], "/ordermodelview")
    theirs = _job_of(app, vtree, "s")
    html = browsers["a"].get("/exports/list/").get_data(as_text=True)
    assert f'data-export-id="{mine}"' in html
    assert f'data-export-id="{theirs}"' not in html
    assert f"/exports/{mine}/download" in html
    other = browsers["s"].get("/exports/list/").get_data(as_text=True)
    assert f'data-export-id="{mine}"' not in other and f'data-export-id="{theirs}"' in other


@pytest.mark.parametrize("suffix", ["", "/status", "/download"])
def test_another_accounts_export_answers_404(app, vtree, browsers, store, suffix):
    job_id = _start_export(browsers["a"])
    assert browsers["s"].get(f"/exports/{job_id}{suffix}").status_code == 404
    assert browsers["a"].get(f"/exports/{job_id}{suffix}").status_code == 200


@pytest.mark.parametrize("suffix", ["", "/status", "/download"])
def test_garbage_ids_answer_404(browsers, suffix):
    for pk in GARBAGE_IDS:
        assert browsers["a"].get(f"/exports/{pk}{suffix}").status_code == 404, pk


def test_a_queued_export_polls_until_the_scheduler_has_written_it(app, vtree, browsers, store,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)  # everything waits its turn
    a = browsers["a"]
    job_id = _start_export(a, "/ordermodelview")
    state = a.get(f"/exports/{job_id}/status").get_json()
    assert state["status"] == "queued" and state["download_url"] is None
    assert state["percent"] is None and state["status_text"] == "Waiting to start"
    assert "export-poll" in a.get(f"/exports/{job_id}").get_data(as_text=True)
    assert a.get(f"/exports/{job_id}/download").status_code == 404  # nothing to give yet

    run_export_ticks(app, job_id)
    state = a.get(f"/exports/{job_id}/status").get_json()
    assert state["status"] == "done" and state["rows_done"] == 2
    download = a.get(state["download_url"])
    assert download.status_code == 200 and download.data[:2] == b"PK"


def test_a_failed_export_shows_its_error(app, vtree, browsers, store):
    with app.app_context():
        job = export_jobs.request_export(
            db.session, vtree.a, Principal(vtree.a, AccountKind.channel_master, vtree.A),
            STATEMENTS, OrderCriteria(), "en")
        job_id = job.id
        with db.engine.begin() as conn:  # as if it had failed (a done job cannot fail)
            conn.execute(ExportJob.__table__.update().where(ExportJob.id == job_id)
                         .values(status="running"))
            export_jobs.fail_export(conn, job_id, export_jobs.STOPPED)
    state = browsers["a"].get(f"/exports/{job_id}/status").get_json()
    assert state["status"] == "failed" and "process writing it ended" in state["error"]
    assert state["download_url"] is None
    assert browsers["a"].get(f"/exports/{job_id}/download").status_code == 404
    assert "process writing it ended" in browsers["a"].get(
        f"/exports/{job_id}").get_data(as_text=True)


def test_a_pruned_file_is_no_longer_offered(app, vtree, browsers, store):
    a = browsers["a"]
    job_id = _start_export(a)
    with app.app_context():
        path = export_jobs.export_path(db.session.get(ExportJob, job_id))
    os.remove(path)
    assert a.get(f"/exports/{job_id}/download").status_code == 404


def test_roles_without_exports_are_refused(app, browsers):
    assert browsers["ent"].get("/exports/list/").status_code == 403
    assert app.test_client().get("/exports/list/").status_code == 302  # to the login page
