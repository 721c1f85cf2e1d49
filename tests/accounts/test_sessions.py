"""Sessions kept on the server (app/accounts/sessions.py): Exit, password changes, freezes and
deleted accounts end them for whoever holds the cookie; the idle timeout; what a request
writes; the same rules on the Redis store."""

import datetime
import re
import uuid

import pytest
import redis
from sqlalchemy import event, func, select, update

from app.accounts import rules as accounts
from app.extensions import db
from app.models import Account, Enterprise, ServerSession, Status, utcnow

from ..conftest import Browser, csrf_token_from, make_app

REDIS_URL = "redis://127.0.0.1:6379/0"


def _cookie(browser):
    cookie = browser.client.get_cookie("session")
    return cookie.value if cookie else None


def _with_cookie(app, value):
    """Another browser that got hold of a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def _signed_in(client):
    """Signed in at all: the password page opens even while a new password is owed."""
    return client.get("/account/password").status_code == 200


def _rows(app, **where):
    with app.app_context():
        query = select(func.count()).select_from(ServerSession)
        for key, value in where.items():
            query = query.where(getattr(ServerSession, key) == value)
        return db.session.execute(query).scalar()


# --- what ends a session ---------------------------------------------------------------------

def test_a_cookie_copied_before_exit_opens_nothing_afterwards(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    copied = _cookie(browser)
    assert _signed_in(_with_cookie(app, copied))
    assert browser.post("/logout/").status_code == 302
    assert not _signed_in(_with_cookie(app, copied))
    assert _rows(app, account_id=fresh_tree.c) == 0


def test_the_cookie_carries_only_a_random_id(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    value = _cookie(browser)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)  # no signed data, no account id
    with app.app_context():
        row = db.session.execute(select(ServerSession).where(
            ServerSession.account_id == fresh_tree.c)).scalar_one()
        assert value not in row.id  # only its digest is stored
        assert '"_user_id"' in row.data


def test_signing_in_gets_a_new_session_id(app, fresh_tree):
    """An id planted or seen before the sign-in (fixation) does not become signed in."""
    browser = Browser(app)
    browser.token = csrf_token_from(browser.get("/login/").get_data(as_text=True))
    before = _cookie(browser)
    assert before
    browser.client.post("/login/", data={"username": fresh_tree.c_email,
                                         "password": fresh_tree.password,
                                         "csrf_token": browser.token})
    assert _signed_in(browser.client)
    assert _cookie(browser) != before
    assert not _signed_in(_with_cookie(app, before))


def test_own_password_change_ends_the_other_sessions_and_keeps_this_one(app, fresh_tree,
                                                                        login):
    here = login(fresh_tree.c_email, fresh_tree.password)
    elsewhere = login(fresh_tree.c_email, fresh_tree.password)
    response = here.post("/account/password", data={
        "old_password": fresh_tree.password, "new_password": "Next-pass-1",
        "repeat_password": "Next-pass-1"})
    assert response.status_code == 302
    assert _signed_in(here.client)
    assert not _signed_in(elsewhere.client)
    assert _rows(app, account_id=fresh_tree.c) == 1


def test_a_reset_link_ends_every_session(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    with app.app_context():
        token = accounts.issue_reset_token(db.session, db.session.get(Account, fresh_tree.c))
        db.session.commit()
    visitor = app.test_client()
    page = visitor.get(f"/password/reset/{token}").get_data(as_text=True)
    assert visitor.post(f"/password/reset/{token}", data={
        "new_password": "Via-link-9", "repeat_password": "Via-link-9",
        "csrf_token": csrf_token_from(page)}).status_code == 302
    assert not _signed_in(browser.client)


def test_a_channel_resetting_the_enterprise_password_ends_its_sessions(app, fresh_tree, login):
    enterprise = login(fresh_tree.ent_email, fresh_tree.password)
    assert _signed_in(enterprise.client)
    channel = login(fresh_tree.c_email, fresh_tree.password)
    assert channel.post(f"/enterprisemodelview/action/resetpassword/{fresh_tree.E}"
                        ).status_code == 302
    assert not _signed_in(enterprise.client)


def test_the_administrators_reset_ends_the_sessions(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    admin = login(fresh_tree.admin_email, fresh_tree.password)
    admin.token = csrf_token_from(admin.get(f"/resetpassword/form?pk={fresh_tree.c}")
                                  .get_data(as_text=True))
    admin.post(f"/resetpassword/form?pk={fresh_tree.c}",
               data={"password": "Given-pass-1", "conf_password": "Given-pass-1"})
    assert not _signed_in(browser.client)
    assert _signed_in(admin.client)


def test_a_freeze_ends_the_sessions_for_good(app, fresh_tree, login):
    """Before, a cookie not used while frozen worked again after the unfreeze."""
    enterprise = login(fresh_tree.ent_email, fresh_tree.password)
    copied = _cookie(enterprise)
    a = login(fresh_tree.a_email, fresh_tree.password)
    a.post(f"/enterprisemodelview/action/freeze/{fresh_tree.E}")
    a.post(f"/enterprisemodelview/action/unfreeze/{fresh_tree.E}")
    with app.app_context():
        assert db.session.get(Enterprise, fresh_tree.E).status == Status.active
    assert not _signed_in(_with_cookie(app, copied))
    assert login(fresh_tree.ent_email, fresh_tree.password)  # signing in again works


def test_a_deleted_accounts_session_does_not_pass_to_a_later_account(app, fresh_tree, login):
    """A new account may get the deleted one's id (SQLite reuses the highest)."""
    with app.app_context():
        sm = app.appbuilder.sm
        email = f"gone@{fresh_tree.prefix}.test"
        gone = sm.add_user(username=email, first_name="Gone", last_name="X", email=email,
                           role=sm.find_role("Admin"), password=fresh_tree.password)
        gone_id = gone.id
    copied = _cookie(login(email, fresh_tree.password))
    admin = login(fresh_tree.admin_email, fresh_tree.password)
    admin.token = csrf_token_from(admin.get(f"/users/show/{gone_id}").get_data(as_text=True))
    admin.post(f"/users/delete/{gone_id}")
    with app.app_context():
        assert db.session.get(Account, gone_id) is None
    assert _rows(app, account_id=gone_id) == 0
    with app.app_context():
        email = f"next@{fresh_tree.prefix}.test"
        sm.add_user(username=email, first_name="Next", last_name="X", email=email,
                    role=sm.find_role("Admin"), password=fresh_tree.password)
    assert not _signed_in(_with_cookie(app, copied))


# --- what a request writes (the idle timeout itself: tests/accounts/test_security.py) ------------

def _expire_in(app, account_id, delta):
    with app.app_context():
        db.session.execute(update(ServerSession).where(
            ServerSession.account_id == account_id).values(expires_at=utcnow() + delta))
        db.session.commit()


class _Writes:
    """The statements that write sessions, as the database receives them."""

    def __init__(self, app):
        self.app, self.statements = app, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if "server_session" in statement and not statement.lstrip().upper().startswith(
                "SELECT"):
            self.statements.append(statement.split()[0].upper())

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def _expiry_cookie(response):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return headers[0] if headers else None


def test_a_page_view_writes_nothing_until_a_minute_went_by(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    browser.get("/channelmodelview/list/")
    with _Writes(app) as writes:
        response = browser.get("/channelmodelview/list/")
    assert response.status_code == 200 and writes.statements == []
    assert _expiry_cookie(response) is None
    # Two minutes later the expiry moves on: one UPDATE, and the cookie's date with it.
    _expire_in(app, fresh_tree.a, datetime.timedelta(minutes=28))
    with _Writes(app) as writes:
        response = browser.get("/channelmodelview/list/")
    assert writes.statements == ["UPDATE"]
    assert "Expires=" in _expiry_cookie(response) and "HttpOnly" in _expiry_cookie(response)
    with app.app_context():
        expires = db.session.execute(select(ServerSession.expires_at).where(
            ServerSession.account_id == fresh_tree.a)).scalar()
    assert expires > utcnow() + datetime.timedelta(minutes=29)


def test_cookie_flags(app, database_url):
    header = _expiry_cookie(Browser(app).get("/login/"))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    secure = make_app(database_url, SESSION_COOKIE_SECURE=True)
    assert "; Secure" in _expiry_cookie(secure.test_client().get("/login/"))
    with secure.app_context():
        db.engine.dispose()


def test_anonymous_visitors_store_nothing_until_there_is_something_to_keep(app):
    before = _rows(app)
    visitor = app.test_client()
    page = visitor.get("/password/forgot/").get_data(as_text=True)
    picture = re.search(r'id="captcha-image" src="([^"]+)"', page).group(1)
    stranger = app.test_client()  # fetches what stores nothing: no cookie, no row
    for url in (picture, "/password/reset/not-a-token", "/static/appbuilder/css/ab.css"):
        response = stranger.get(url)
        assert response.status_code in (200, 410), url
        assert _expiry_cookie(response) is None, url
    assert _rows(app) == before + 1  # the forgot page's form token made one
    for _ in range(3):  # the same visitor viewing more pages: still that one row
        visitor.get("/login/")
    assert _rows(app) == before + 1


def test_the_scheduler_prunes_expired_sessions(app, fresh_tree, login):
    from app.accounts.sessions import prune_sessions

    login(fresh_tree.b_email, fresh_tree.password)
    live = login(fresh_tree.c_email, fresh_tree.password)
    _expire_in(app, fresh_tree.b, datetime.timedelta(seconds=-1))
    with app.app_context():
        assert "prune_sessions" in app.extensions["ymcs_jobs"]
        prune_sessions()
    assert _rows(app, account_id=fresh_tree.b) == 0
    assert _rows(app, account_id=fresh_tree.c) == 1 and _signed_in(live.client)


# --- the Redis store -------------------------------------------------------------------------

@pytest.fixture
def redis_app(database_url):
    prefix = f"ymcs-test-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(REDIS_URL)
    app = make_app(database_url, REDIS_URL=REDIS_URL, SESSION_REDIS_PREFIX=prefix)
    app.redis, app.prefix = client, prefix
    yield app
    with app.app_context():
        db.engine.dispose()
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _session_keys(app):
    return list(app.redis.scan_iter(f"{app.prefix}s:*"))


def test_redis_keeps_the_sessions_and_ends_them_alike(redis_app, fresh_tree):
    app = redis_app
    rows_before = _rows(app)
    here = Browser(app, fresh_tree.c_email, fresh_tree.password)
    elsewhere = Browser(app, fresh_tree.c_email, fresh_tree.password)
    keys = _session_keys(app)
    assert len(keys) == 2 and _rows(app) == rows_before  # nothing in the database
    assert 29 * 60 < app.redis.pttl(keys[0]) / 1000 <= 30 * 60  # the idle timeout
    # a password change ends the other session, keeps its own
    here.post("/account/password", data={
        "old_password": fresh_tree.password, "new_password": "Next-pass-1",
        "repeat_password": "Next-pass-1"})
    assert _signed_in(here.client) and not _signed_in(elsewhere.client)
    # Exit ends it for a copy of the cookie too
    copied = _cookie(here)
    here.post("/logout/")
    assert not _signed_in(_with_cookie(app, copied))
    # a freeze ends every session of the tenant's accounts
    enterprise = Browser(app, fresh_tree.ent_email, fresh_tree.password)
    copied = _cookie(enterprise)
    channel = Browser(app, fresh_tree.a_email, fresh_tree.password)
    channel.post(f"/enterprisemodelview/action/freeze/{fresh_tree.E}")
    channel.post(f"/enterprisemodelview/action/unfreeze/{fresh_tree.E}")
    assert not _signed_in(_with_cookie(app, copied))


def test_redis_idle_timeout_and_quiet_page_views(redis_app, fresh_tree):
    app = redis_app
    browser = Browser(app, fresh_tree.b_email, fresh_tree.password)
    browser.get("/channelmodelview/list/")
    (key,) = _session_keys(app)
    value = app.redis.get(key)
    assert _expiry_cookie(browser.get("/channelmodelview/list/")) is None  # nothing rewritten
    assert app.redis.get(key) == value
    app.redis.pexpire(key, 28 * 60 * 1000)  # two idle minutes later the expiry moves on
    assert "Expires=" in _expiry_cookie(browser.get("/channelmodelview/list/"))
    assert app.redis.pttl(key) > 29 * 60 * 1000
    app.redis.pexpire(key, 1)  # idle past the lifetime: Redis drops it
    while app.redis.exists(key):
        pass
    response = browser.get("/channelmodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
