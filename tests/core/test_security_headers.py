"""Every response says: never frame me, never guess my type, never send my URL to another site
(security review, point 11)."""

import http.client
import threading

import pytest
from werkzeug.serving import make_server

EXPECTED = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# (what, method, path, status): a portal page, the login page, error pages, a static file and
# the ACS mounted beside Flask.
RESPONSES = [
    ("login page", "GET", "/login/", 200),
    ("forgot-password page", "GET", "/password/forgot/", 200),
    ("error page", "GET", "/no-such-page/", 404),
    ("static file", "GET", "/static/appbuilder/css/ab.css", 200),
    ("ACS refusal", "GET", "/acs", 405),
    ("ACS health", "GET", "/acs/health", 200),
]


def _assert_protected(headers):
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (name, headers.get(name))


@pytest.mark.parametrize("what,method,path,status", RESPONSES, ids=[r[0] for r in RESPONSES])
def test_anonymous_responses_carry_the_headers(app, what, method, path, status):
    response = app.test_client().open(path, method=method)
    assert response.status_code == status
    _assert_protected(response.headers)


def test_portal_pages_carry_the_headers(tree, login):
    browser = login(tree.c_email, tree.password)
    for path in ("/", "/channelmodelview/list/", "/account/"):
        response = browser.get(path)
        assert response.status_code == 200, path
        _assert_protected(response.headers)
    forbidden = browser.post("/logout/", data={"csrf_token": "forged"})
    assert forbidden.status_code == 400
    _assert_protected(forbidden.headers)


def test_a_refused_host_carries_the_headers(app):
    response = app.test_client().get("/login/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    _assert_protected(response.headers)


def test_the_headers_reach_the_wire(app):
    """Over real HTTP, through Werkzeug's server as `flask run` serves."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _what, method, path, status in RESPONSES:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
            connection.request(method, path)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == status, path
            _assert_protected(response.headers)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_static_files_are_kept_an_hour_and_pages_never(tree, login):
    """Browsers keep the style sheets and scripts instead of asking again on every page; a
    page with someone's data is not given a lifetime."""
    client = login(tree.c_email, tree.password)
    for path in ("/static/appbuilder/css/bootstrap.min.css", "/static/ymcs/forms.css"):
        response = client.get(path)
        assert response.status_code == 200
        assert "max-age=3600" in response.headers["Cache-Control"], path
    page = client.get("/channelmodelview/list/")
    assert page.status_code == 200 and "max-age" not in page.headers.get("Cache-Control", "")
