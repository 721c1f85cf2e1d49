"""Take the README's screenshots: the home page, the enterprise list, an enterprise's details
and the device list, in English and Chinese, at 1280 px wide, into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py            # needs Chromium (YMCS_CHROMIUM)

The portal is served from a throwaway SQLite database with the demo data (never instance/),
on a free port of 127.0.0.1, and stopped afterwards. Each PNG is reduced to 256 colours to
stay small in the repository.
"""

import os
import secrets
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

OUT = os.path.join(ROOT, "docs", "screenshots")
CHROMIUM = os.environ.get("YMCS_CHROMIUM", "/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 800
ACCOUNT = "acme@ymcs.example"
ENTERPRISE = "Acme Hotel Group"


def _portal(tmp):
    """(app, base URL, stop) of the demo portal served on a free port."""
    import flask_migrate
    from werkzeug.serving import make_server

    from app import create_app
    from app.demo import seed_demo
    from app.extensions import db

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(tmp, 'screenshots.db')}",
        "SECRET_KEY": secrets.token_urlsafe(48), "SCHEDULER_MODE": "off",
        "FILE_STORE_DIR": os.path.join(tmp, "files"),
        "TRUSTED_HOSTS": ["127.0.0.1", "localhost"], "MAIL_PORT": 9,
    })
    with app.app_context():
        flask_migrate.upgrade(directory=os.path.join(ROOT, "migrations"))
        app.appbuilder.sm.sync_roles()
        seed_demo(db.session)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return app, url, stop


def _enterprise_id(app):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Enterprise

    with app.app_context():
        pk = db.session.execute(select(Enterprise.id).where(
            Enterprise.name == ENTERPRISE)).scalar_one()
        db.session.remove()
    return pk


def _save(page, name):
    from PIL import Image

    path = os.path.join(OUT, f"{name}.png")
    page.screenshot(path=path)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    print(f"{path}: {os.path.getsize(path) // 1024} KB")


def _sign_in(page, url, language):
    from app.demo import DEMO_PASSWORD

    page.goto(f"{url}/login/")
    page.fill('input[name="username"]', ACCOUNT)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    # Set the choice without the select's change handler: the account keeps it.
    page.evaluate("lang => { document.getElementById('language').value = lang; }", language)
    page.locator('form input[type="submit"], form button[type="submit"]').first.click()
    page.wait_for_url(lambda u: "/login" not in u)
    # The account's saved language wins over the form left as it was: choose it on purpose,
    # as the top bar's language menu does (the English pass saved English for the account).
    page.goto(f"{url}/lang/{language}")


def main():
    from playwright.sync_api import sync_playwright

    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app, url, stop = _portal(tmp)
        try:
            pages = [("home", "/"), ("enterprises", "/enterprisemodelview/list/"),
                     ("enterprise", f"/enterprisemodelview/show/{_enterprise_id(app)}"),
                     ("devices", "/devicemodelview/list/")]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
                for language in ("en", "zh"):
                    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                                  locale="zh-CN" if language == "zh" else "en-US")
                    page = context.new_page()
                    _sign_in(page, url, language)
                    for name, path in pages:
                        page.goto(url + path)
                        page.wait_for_load_state("networkidle")
                        _save(page, f"{name}-{language}")
                    context.close()
                browser.close()
        finally:
            stop()


if __name__ == "__main__":
    main()
