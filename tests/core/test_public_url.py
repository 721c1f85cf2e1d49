"""Links in mail come from PUBLIC_URL, never from the request's Host header, and a request for
a host outside TRUSTED_HOSTS is refused (security review, point 4)."""

import re
from urllib.parse import urlsplit

import pytest

from app.accounts import challenges
from app.core.mail import send_due_mail
from app.extensions import db

from ..conftest import Browser, csrf_token_from, make_app

PUBLIC = "https://portal.example.test"


@pytest.fixture(scope="module")
def public_app(app, database_url):
    """The portal as deployed at PUBLIC, still answering the test client's "localhost"."""
    public = make_app(database_url, PUBLIC_URL=PUBLIC,
                      TRUSTED_HOSTS=["portal.example.test", "localhost"])
    yield public
    with public.app_context():
        db.session.remove()
        db.engine.dispose()


def _forgot(app, email, **headers):
    """Ask for a reset link as a person does: read the captcha, type it, send."""
    client = app.test_client()
    page = client.get("/password/forgot/", headers=headers)
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    challenge = re.search(r'name="challenge"[^>]*value="([^"]+)"', html).group(1)
    return client.post("/password/forgot/", headers=headers, data={
        "email": email, "captcha": challenges.answer_for(app.config["SECRET_KEY"], challenge),
        "challenge": challenge, "csrf_token": csrf_token_from(html)})


def _mails_to(app, smtp_server, email):
    with app.app_context():
        send_due_mail(db.session, app)
    return [m.get_body(("plain",)).get_content()
            for rcpts, m in smtp_server.received if email in rcpts]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "localhost.evil.example"])
def test_forgot_password_for_a_foreign_host_is_refused_and_mails_nothing(
        app, fresh_tree, smtp_server, host):
    client = app.test_client()
    page = client.get("/password/forgot/", headers={"Host": host})
    assert page.status_code == 400
    assert "does not answer to this host name" in page.get_data(as_text=True)
    assert "http://localhost" in page.get_data(as_text=True)  # where to go instead
    # A form taken from the real host, posted with the foreign one.
    good = client.get("/password/forgot/").get_data(as_text=True)
    challenge = re.search(r'name="challenge"[^>]*value="([^"]+)"', good).group(1)
    refused = client.post("/password/forgot/", headers={"Host": host}, data={
        "email": fresh_tree.c_email, "captcha": challenges.answer_for(
            app.config["SECRET_KEY"], challenge),
        "challenge": challenge, "csrf_token": csrf_token_from(good)})
    assert refused.status_code == 400
    assert _mails_to(app, smtp_server, fresh_tree.c_email) == []


def test_a_foreign_host_is_refused_even_for_a_signed_in_user(app, tree, login):
    browser = login(tree.c_email, tree.password)
    assert browser.get("/").status_code == 200
    refused = browser.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and b"<html" not in refused.data


def test_reset_link_points_at_public_url_whatever_the_request_names(
        public_app, fresh_tree, smtp_server):
    response = _forgot(public_app, fresh_tree.c_email,
                       **{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"})
    assert response.status_code == 302
    (body,) = _mails_to(public_app, smtp_server, fresh_tree.c_email)
    assert "evil" not in body and "localhost" not in body
    link = re.search(r"\S+/password/reset/\S+", body).group(0)
    assert link.startswith(f"{PUBLIC}/password/reset/")
    # The link is genuine: it opens the new-password form.
    opened = public_app.test_client().get(urlsplit(link).path)
    assert opened.status_code == 200 and 'name="new_password"' in opened.get_data(as_text=True)


def test_new_master_account_mail_links_to_public_url(public_app, fresh_tree, smtp_server):
    email = f"boss@{fresh_tree.prefix}.test"
    browser = Browser(public_app, fresh_tree.b_email, fresh_tree.password)
    response = browser.post("/enterprisemodelview/add", data={
        "name": f"{fresh_tree.prefix}-public", "permission_type": "device_management",
        "has_master_admin": "y", "email": email, "country": "CN", "contact": "Li",
        "channel": str(fresh_tree.C)}, headers={"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 302
    (body,) = _mails_to(public_app, smtp_server, email)
    assert f"{PUBLIC}/login/" in body and "localhost" not in body and "evil" not in body


def test_trusted_hosts_default_to_public_url(app, database_url):
    production = make_app(database_url, YMCS_ENV="production", PUBLIC_URL=PUBLIC,
                          TRUSTED_HOSTS=None, ACS_PUBLIC_URL="https://acs.example.test/acs")
    client = production.test_client()
    assert client.get("/login/", headers={"Host": "portal.example.test"}).status_code == 200
    # Devices given ACS_PUBLIC_URL fetch their provisioning files from its host.
    assert client.get("/provisioning/y000000000000.cfg",
                      headers={"Host": "acs.example.test"}).status_code != 400
    for host in ("localhost", "127.0.0.1", "evil.example"):
        refused = client.get("/login/", headers={"Host": host})
        assert refused.status_code == 400
        assert f"Open {PUBLIC} instead" in refused.get_data(as_text=True)
    # Development also answers on this machine's own names.
    development = make_app(database_url, YMCS_ENV="development", PUBLIC_URL=PUBLIC,
                           TRUSTED_HOSTS=None)
    client = development.test_client()
    for host in ("localhost", "127.0.0.1:8080", "portal.example.test"):
        assert client.get("/login/", headers={"Host": host}).status_code == 200
    assert client.get("/login/", headers={"Host": "evil.example"}).status_code == 400
    for made in (production, development):
        with made.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("url", [None, "", "portal.example.test", "ftp://portal.example.test",
                                 "https://portal.example.test/?next=x", "https://:443"])
def test_production_needs_a_valid_public_url(database_url, url):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        make_app(database_url, YMCS_ENV="production", PUBLIC_URL=url)
