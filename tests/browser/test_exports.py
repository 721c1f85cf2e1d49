"""The Exports screens in Chromium: a queued export's progress page polls until the scheduler
has written the file, then offers the download; a failed one shows why; the menu leads to
the account's own exports. (Small exports from the lists: tests/browser/test_orders.py.)"""

import re

import openpyxl
from playwright.sync_api import expect

from app.exports import jobs as export_jobs
from app.extensions import db
from app.models import ExportJob

from ..helpers import run_export_ticks

ACME = "acme@ymcs.example"  # the demo's channel admin


def _queue_statement_export(live_server, page, monkeypatch, tmp_path):
    app = live_server.app
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 0)  # every export waits its turn
    page.goto("/statementmodelview/list/")
    page.get_by_role("button", name="Export Statement").click()
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_queued_export_polls_until_the_download_is_offered(live_server, page_as,
                                                             monkeypatch, tmp_path):
    page = page_as(ACME)
    job_id = _queue_statement_export(live_server, page, monkeypatch, tmp_path)
    expect(page.locator("#export-status-text")).to_have_text("Waiting to start")
    expect(page.locator("#export-download")).to_be_hidden()

    run_export_ticks(live_server.app, job_id)
    # No reload: the page's own polling notices the finished file.
    expect(page.locator("#export-status-text")).to_have_text("Ready")
    link = page.locator("#export-download")
    expect(link).to_be_visible()
    expect(page.locator("#export-bar-box")).to_be_hidden()
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert re.fullmatch(r"statements-\d{8}-\d{4}\.xlsx", path.name)
    header = next(openpyxl.load_workbook(path, read_only=True).active.iter_rows(
        values_only=True))
    assert header[:3] == ("Order ID", "Order Time", "Enterprise")

    # The menu's Exports lists it, with its download.
    page.locator(".navbar").first.get_by_role("link", name="Orders").click()
    page.locator(".navbar").first.get_by_role("link", name="Exports").click()
    row = page.locator(f'tr[data-export-id="{job_id}"]')
    expect(row).to_contain_text("Ready")
    expect(row.get_by_role("link", name="Download")).to_be_visible()


def test_a_failed_export_shows_why_on_its_progress_page(live_server, page_as, monkeypatch,
                                                        tmp_path):
    page = page_as(ACME)
    job_id = _queue_statement_export(live_server, page, monkeypatch, tmp_path)
    with live_server.app.app_context():
        with db.engine.begin() as conn:
            export_jobs.fail_export(conn, job_id, export_jobs.STOPPED)
        assert db.session.get(ExportJob, job_id).status.value == "failed"
    expect(page.locator("#export-error")).to_contain_text("the process writing it ended")
    expect(page.locator("#export-download")).to_be_hidden()
    expect(page.locator("#export-status-text")).to_have_text("Failed")
