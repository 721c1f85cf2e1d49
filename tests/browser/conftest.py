"""Browser test harness: a real Chromium (Debian's, through Playwright) against the portal
served by werkzeug on 127.0.0.1, over its own freshly migrated database with the demo data.

Fixtures for later browser tests:
- ``live_server``: the running portal (``.url``, ``.app``) — one for all of tests/browser/
  (package scope: the server, its database and the browser close when these tests are done;
  tests/conftest.py runs these tests first and together, whatever the random order, so each
  xdist worker starts them once);
- ``page_as(email, password=DEMO_PASSWORD)``: a new browser context (own cookies) logged in
  through the login form; returns the Playwright ``Page``, already on the first page after login;
- ``anon_page``: a page in a fresh context, not logged in;
- ``browser``: the Playwright ``Browser``, for anything else.

Tests that change data should create their own tenants rather than edit the demo ones: the
database lives for the whole session. Use Playwright's auto-waiting locators and ``expect``;
never sleep.
"""

import os
import threading
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from app.extensions import db

from ..conftest import create_test_database, make_app, migrate_and_sync

CHROMIUM = os.environ.get("YMCS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long any wait (a navigation, an expect) may last before the test fails: no measure of
# speed (every wait ends as soon as its event comes) but room for a small CI machine under
# load, where the first page also compiles templates; 20 s was once not enough there.
TIMEOUT_MS = 60_000


def _in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="package")
def live_server(tmp_path_factory):
    from app.demo import seed_demo

    url, drop = create_test_database(tmp_path_factory.mktemp("browser-db"))
    app = make_app(url, FILE_STORE_DIR=str(tmp_path_factory.mktemp("browser-files")))
    migrate_and_sync(app)
    with app.app_context():
        seed_demo(db.session)
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in mail
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(app=app, url=app.config["PUBLIC_URL"])
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


@pytest.fixture(scope="package")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/test.sh does)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def _contexts(browser, live_server, request, tmp_path):
    """Every context a test opens; on failure each open page is kept as a screenshot."""
    opened = []

    def new_context():
        context = browser.new_context(base_url=live_server.url,
                                      viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield new_context
    failed = getattr(request.node, "browser_test_failed", False)
    for n, context in enumerate(opened):
        if failed:
            for m, page in enumerate(context.pages):
                path = tmp_path / f"failure-{n}-{m}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                    print(f"screenshot of {page.url} at failure: {path}")
                except Exception as exc:  # noqa: BLE001 - best effort, the test already failed
                    print(f"no failure screenshot: {exc}")
        context.close()


@pytest.fixture
def anon_page(_contexts):
    return _contexts().new_page()


def expect_message(page, kind, text):
    """The page shows this message (an .alert-<kind> holding ``text``), whatever other
    messages it shows: a page may carry more than one."""
    from playwright.sync_api import expect

    expect(page.locator(f".alert-{kind}").filter(has_text=text)).to_be_visible()


def add_button(page):
    """The list's Add button. Matched as a whole word: a row named "c3eadd76-R" also
    contains "add", and a plain name="Add" picked it up."""
    import re

    return page.get_by_role("link", name=re.compile(r"^\W*Add$"))


def login_through_form(page, email, password):
    """Fill in and submit the login form as a person would; wait for the page after it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto("/login/")
    page.locator('input[name="username"]').fill(email)
    page.locator('input[name="password"]').fill(password)
    page.locator('form input[type="submit"], form button[type="submit"]').first.click()
    try:
        page.wait_for_url(lambda url: "/login" not in url)
    except PlaywrightTimeout:
        # A refused login stays on /login/ with a message: show it instead of a bare timeout.
        pytest.fail(f"login as {email} failed; the page says: "
                    f"{page.locator('body').inner_text()[:500]!r}")
    return page


@pytest.fixture
def page_as(_contexts):
    from app.demo import DEMO_PASSWORD

    def _page_as(email, password=DEMO_PASSWORD):
        page = _contexts().new_page()
        return login_through_form(page, email, password)

    return _page_as


# --- the portal's confirmation modal (app/static/ymcs/forms.js), in place of confirm() --------

CONFIRM_MODAL = "#ymcs-confirm.in"


def confirm_modal(page, accept=True):
    """Wait for the confirmation modal, answer it (OK or Cancel); return (question, object)."""
    from playwright.sync_api import expect

    modal = page.locator(CONFIRM_MODAL)
    expect(modal).to_be_visible()
    asked = (modal.locator(".ymcs-confirm-question").inner_text().strip(),
             modal.locator(".ymcs-confirm-object").inner_text().strip())
    modal.locator(".ymcs-confirm-ok" if accept else ".ymcs-confirm-cancel").click()
    if not accept:
        expect(modal).to_have_count(0)
    return asked


def confirming(page, accept=True, times=None):
    """Answer the confirmation modal whenever it is open when the test next acts or expects
    (as ``page.on("dialog")`` answered confirm()); returns the list of questions asked."""
    questions = []
    modal = page.locator(CONFIRM_MODAL)

    def answer():
        questions.append(modal.locator(".ymcs-confirm-question").inner_text().strip())
        modal.locator(".ymcs-confirm-ok" if accept else ".ymcs-confirm-cancel").click()

    page.remove_locator_handler(modal)  # the latest answer counts
    page.add_locator_handler(modal, answer, times=times)
    return questions
