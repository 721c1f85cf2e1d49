"""Baseline security: CSRF, no state change by GET, idle sessions, login rate limit,
the operation log, and a second create_app in one process."""

import datetime
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Enterprise, OperationLog, Status

from ..conftest import Browser, make_app


def _logs(app, **where):
    with app.app_context():
        query = select(OperationLog).order_by(OperationLog.id.desc())
        for key, value in where.items():
            query = query.where(getattr(OperationLog, key) == value)
        return db.session.execute(query).scalars().all()


def test_post_without_csrf_token_is_400_and_changes_nothing(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    response = browser.client.post("/enterprisemodelview/action_post",
                                   data={"action": "freeze", "rowid": [str(fresh_tree.E)]})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Enterprise, fresh_tree.E).status == Status.active


def test_login_without_csrf_token_is_refused(app, tree):
    response = app.test_client().post("/login/", data={"username": tree.a_email,
                                                       "password": tree.password})
    assert response.status_code == 400


def test_no_route_of_ours_changes_state_on_get(app):
    from app.core.scoped_view import ScopedModelView

    ours = {type(v).__name__ for v in app.appbuilder.baseviews
            if isinstance(v, ScopedModelView)}
    assert {"ChannelModelView", "EnterpriseModelView", "DeviceModelView"} <= ours
    for rule in app.url_map.iter_rules():
        view, _, method = rule.endpoint.rpartition(".")
        if view in ours and method in ("delete", "action", "action_post"):
            assert "GET" not in rule.methods, rule


def test_fab_user_delete_by_get_is_refused(app, fresh_tree, login):
    from app.models import Account

    admin = login(fresh_tree.admin_email, fresh_tree.password)
    # FAB's own screens keep GET routes but refuse to mutate once CSRFProtect is installed.
    response = admin.get(f"/users/delete/{fresh_tree.c}")
    assert response.status_code == 302  # the route exists; it refused and went back
    with app.app_context():
        assert db.session.get(Account, fresh_tree.c) is not None


def _session_cookie(response, name="session"):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


def test_session_is_permanent_with_a_30_minute_idle_lifetime(app, tree, login):
    from email.utils import parsedate_to_datetime

    response = Browser(app).login(tree.a_email, tree.password)
    cookie = _session_cookie(response)
    assert cookie and "Expires=" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    left = (expires - datetime.datetime.now(datetime.UTC)).total_seconds()
    assert 29 * 60 < left <= 30 * 60
    assert app.permanent_session_lifetime.total_seconds() == 30 * 60


def test_a_session_idle_past_the_lifetime_is_logged_out(app, fresh_tree, login):
    from sqlalchemy import update

    from app.models import ServerSession, utcnow

    browser = login(fresh_tree.a_email, fresh_tree.password)
    assert browser.get("/enterprisemodelview/list/").status_code == 200
    # As if the last request were 31 minutes ago: the server-side expiry has passed.
    with app.app_context():
        db.session.execute(update(ServerSession).where(
            ServerSession.account_id == fresh_tree.a).values(
            expires_at=utcnow() - datetime.timedelta(minutes=1)))
        db.session.commit()
    response = browser.get("/enterprisemodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_rate_limited(database_url):
    # A second create_app in the same process, with a low limit: FAB's limiter really runs.
    # An address nobody has: wrong passwords for a shared account would count towards its
    # lockout in the tests that sign in with it.
    limited = make_app(database_url, AUTH_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    codes = [client.post("/login/", data={"username": f"nobody-{uuid.uuid4().hex}@x.test",
                                           "password": "wrong"}).status_code
             for _ in range(5)]
    assert 429 in codes[3:], codes


def test_state_change_writes_an_operation_log_row(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    browser.post("/enterprisemodelview/action_post",
                 data={"action": "freeze", "rowid": [str(fresh_tree.E)]})
    row = _logs(app, username=fresh_tree.b_email)[0]
    assert row.operation == "EnterpriseModelView.action_post:freeze"
    assert row.result == "success" and row.method == "POST"
    assert row.path == "/enterprisemodelview/action_post"
    assert row.channel_id == fresh_tree.B and row.ip == "127.0.0.1"


def test_refused_change_is_logged_as_failure(app, fresh_tree, login):
    browser = login(fresh_tree.s_email, fresh_tree.password)
    browser.post(f"/enterprisemodelview/delete/{fresh_tree.E}")
    row = _logs(app, username=fresh_tree.s_email)[0]
    assert row.result == "failure" and row.status_code == 404


def test_failed_login_is_logged(app, fresh_tree):
    from ..conftest import csrf_token_from

    client = app.test_client()
    token = csrf_token_from(client.get("/login/").get_data(as_text=True))
    client.post("/login/", data={"username": fresh_tree.c_email, "password": "nope",
                                 "csrf_token": token})
    row = _logs(app, username=fresh_tree.c_email)[0]
    assert row.operation.endswith(".login") and row.result == "failure"


def test_reads_are_not_logged(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    before = len(_logs(app, username=fresh_tree.c_email))
    browser.get("/devicemodelview/list/")
    assert len(_logs(app, username=fresh_tree.c_email)) == before


def test_operation_log_screen_is_scoped(app, fresh_tree, login):
    login(fresh_tree.s_email, fresh_tree.password).post(
        "/enterprisemodelview/action_post",
        data={"action": "freeze", "rowid": [str(fresh_tree.SE)]})
    s_page = login(fresh_tree.s_email, fresh_tree.password).get(
        "/operationlogmodelview/list/?q=" + fresh_tree.s_email).get_data(as_text=True)
    a_page = login(fresh_tree.a_email, fresh_tree.password).get(
        "/operationlogmodelview/list/?q=" + fresh_tree.s_email).get_data(as_text=True)
    # the row: its readable name and path (the filter's options name every operation)
    assert "<td>Freeze enterprise</td><td>/enterprisemodelview/action_post</td>" in s_page
    assert "/enterprisemodelview/action_post" not in a_page


def test_production_refuses_the_placeholder_secret(database_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        make_app(database_url, YMCS_ENV="production", SECRET_KEY="dev-only-change-me")


def test_a_request_that_crashes_is_logged_as_failure(app, fresh_tree, login, monkeypatch):
    from app.tenancy import rules as tenants

    def explode(items):
        raise RuntimeError("boom")

    monkeypatch.setattr(tenants, "freeze", explode)
    browser = login(fresh_tree.a_email, fresh_tree.password)
    with pytest.raises(RuntimeError):  # TESTING propagates; production answers 500
        browser.post("/enterprisemodelview/action_post",
                     data={"action": "freeze", "rowid": [str(fresh_tree.E)]})
    row = _logs(app, username=fresh_tree.a_email)[0]
    assert row.result == "failure" and row.status_code == 500


@pytest.mark.parametrize("who", ["c", "ent", "rps", "admin", "sub"])
def test_a_request_reads_no_column_the_user_query_leaves_out(app, tree, login, who):
    """The signed-in account and its tenant are loaded with the columns a request uses
    (app/accounts/security.py); one left out but read on every page would cost a statement
    more on every request. A deferred column read later fires the ORM's refresh event."""
    from sqlalchemy import event

    from app.models import Channel, Enterprise

    browser = login(getattr(tree, f"{who}_email"), tree.password)
    refreshed = []

    def on_refresh(target, context, attrs):
        refreshed.append((type(target).__name__, sorted(attrs or ())))

    for model in (Account, Channel, Enterprise):
        event.listen(model, "refresh", on_refresh)
    try:
        for path in ("/", "/devicemodelview/list/", "/", "/alarms/list/"):
            assert browser.get(path).status_code in (200, 403), path
    finally:
        for model in (Account, Channel, Enterprise):
            event.remove(model, "refresh", on_refresh)
    assert refreshed == []
