"""Signing in and out, lockout, first-login password change, frozen sessions, the forgotten
password flow and account settings — through HTTP, as a browser would."""

import re

import pytest
from sqlalchemy import select

from app.accounts import challenges
from app.core.mail import send_due_mail
from app.extensions import db
from app.models import Account, Channel, Enterprise, Status

from ..conftest import Browser, csrf_token_from


def _account(app, account_id):
    with app.app_context():
        return db.session.get(Account, account_id)


def _attempt(app, email, password, address="127.0.0.1", **extra):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token_from(client.get("/login/").get_data(as_text=True))
    response = client.post("/login/", data={"username": email, "password": password,
                                            "csrf_token": token, **extra})
    return client, response


def _page_after(client, response):
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_login_page_offers_languages_and_forgot_password(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    assert 'name="language"' in page and 'value="zh"' in page and 'value="en"' in page
    assert "/password/forgot/" in page


def test_login_page_in_chinese(app):
    client = app.test_client()
    client.get("/lang/zh")
    page = client.get("/login/").get_data(as_text=True)
    assert "登录 YMCS 渠道平台" in page and "忘记密码" in page


def test_language_chosen_at_login_sticks_to_the_account(app, fresh_tree):
    client, response = _attempt(app, fresh_tree.c_email, fresh_tree.password, language="zh")
    assert response.status_code == 302
    assert _account(app, fresh_tree.c).language == "zh"
    assert "渠道管理" in client.get("/channelmodelview/list/").get_data(as_text=True)
    # a later sign-in without choosing gets the account's language
    client, _ = _attempt(app, fresh_tree.c_email, fresh_tree.password)
    assert "企业管理" in client.get("/enterprisemodelview/list/").get_data(as_text=True)


def test_unknown_language_is_refused_without_signing_in(app, fresh_tree):
    client, response = _attempt(app, fresh_tree.c_email, fresh_tree.password, language="xx")
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(
        as_text=True)
    assert client.get("/channelmodelview/list/").status_code == 302  # still signed out
    assert _account(app, fresh_tree.c).language == "en"


@pytest.mark.parametrize("email, password, field, message", [
    ("", "x", "username", "This field is required."),
    ("a@b.test", "", "password", "This field is required."),
    ("x" * 10000, "y", "username", "Field cannot be longer than 320 characters."),
    ("a@b.test", "p" * 10000, "password", "Field cannot be longer than 256 characters."),
])
def test_bad_login_input_is_a_clear_message_not_a_500(app, email, password, field, message):
    client, response = _attempt(app, email, password)
    assert response.status_code == 200  # the form again, with the message at its field
    page = response.get_data(as_text=True)
    assert re.search(rf'name="{field}".*?class="help-block">{re.escape(message)}<', page,
                     re.S), page[-3000:]
    assert client.get("/").status_code == 302  # not signed in


def test_wrong_password_says_so_without_revealing_the_account(app, fresh_tree):
    client, response = _attempt(app, fresh_tree.c_email, "wrong-pass-1")
    known = _page_after(client, response)
    client, response = _attempt(app, "ghost@nowhere.test", "wrong-pass-1")
    unknown = _page_after(client, response)
    assert "Wrong email or password." in known and "Wrong email or password." in unknown
    assert "locked" not in unknown


def _alert(page):
    return re.search(r'class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S).group(1).strip()


def test_ten_wrong_passwords_lock_the_address_and_the_page_says_for_how_long(app, fresh_tree):
    for _ in range(9):
        _attempt(app, fresh_tree.b_email, "wrong-pass-1")
    client, response = _attempt(app, fresh_tree.b_email, "wrong-pass-1")
    assert "locked for 5 minutes" in _page_after(client, response)
    client, response = _attempt(app, fresh_tree.b_email, fresh_tree.password)
    page = _page_after(client, response)
    assert re.search(r"Try again in [45] min \d\d s", page), page[-3000:]
    assert client.get("/channelmodelview/list/").status_code == 302
    # the owner, from another address, still signs in
    client, response = _attempt(app, fresh_tree.b_email, fresh_tree.password, "198.51.100.7")
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert client.get("/channelmodelview/list/").status_code == 200


def test_an_unknown_email_reads_exactly_like_a_registered_one(app, fresh_tree):
    ghost = f"ghost@{fresh_tree.prefix}.test"
    for attempt in range(11):
        pages = [_page_after(*_attempt(app, email, "wrong-pass-1", "203.0.113.9"))
                 for email in (fresh_tree.c_email, ghost)]
        # the time left differs by the moment each page was asked for, nothing else
        known, unknown = (re.sub(r"\d+ min \d+ s", "", _alert(p)) for p in pages)
        assert known == unknown, attempt
    assert "locked for 5 minutes" in unknown


def _must_change(app, account_id):
    with app.app_context():
        db.session.get(Account, account_id).must_change_password = True
        db.session.commit()


def test_first_login_must_change_the_password_before_anything_else(app, fresh_tree, login):
    _must_change(app, fresh_tree.c)
    browser = login(fresh_tree.c_email, fresh_tree.password)
    for url in ("/", "/channelmodelview/list/", "/account/"):
        response = browser.get(url)
        assert response.status_code == 302 and "/account/password" in response.headers[
            "Location"], url
    page = browser.get("/account/password").get_data(as_text=True)
    assert "Change password for safety" in page
    assert browser.post("/enterprisemodelview/action_post",
                        data={"action": "freeze", "rowid": [str(fresh_tree.E)]}
                        ).status_code == 403
    response = browser.post("/account/password", data={
        "old_password": fresh_tree.password, "new_password": "My-own-pass-1",
        "repeat_password": "My-own-pass-1"})
    assert response.status_code == 302
    assert browser.get("/channelmodelview/list/").status_code == 200
    assert not _account(app, fresh_tree.c).must_change_password


def test_password_reset_by_an_admin_forces_a_change(app, fresh_tree, login):
    admin = login(fresh_tree.admin_email, fresh_tree.password)
    page = admin.get(f"/resetpassword/form?pk={fresh_tree.c}").get_data(as_text=True)
    admin.token = csrf_token_from(page)
    admin.post(f"/resetpassword/form?pk={fresh_tree.c}",
               data={"password": "Given-pass-1", "conf_password": "Given-pass-1"})
    assert _account(app, fresh_tree.c).must_change_password
    browser = login(fresh_tree.c_email, "Given-pass-1")
    assert "/account/password" in browser.get("/").headers["Location"]


def test_freezing_ends_an_open_session_at_its_next_request(app, fresh_tree, login):
    browser = login(fresh_tree.ent_email, fresh_tree.password)
    assert browser.get("/devicemodelview/list/").status_code == 200
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).status = Status.frozen
        db.session.commit()
    response = browser.get("/devicemodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "frozen" in browser.get("/login/").get_data(as_text=True)
    # unfreezing restores access
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).status = Status.active
        db.session.commit()
    assert login(fresh_tree.ent_email, fresh_tree.password).get(
        "/devicemodelview/list/").status_code == 200


def test_frozen_channel_cannot_sign_in(app, fresh_tree):
    with app.app_context():
        db.session.get(Channel, fresh_tree.S).status = Status.frozen
        db.session.commit()
    client, response = _attempt(app, fresh_tree.s_email, fresh_tree.password)
    assert "frozen" in _page_after(client, response)


def test_exit_is_a_post_with_csrf(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    assert browser.get("/logout/").status_code == 405
    assert browser.client.post("/logout/").status_code == 400  # no CSRF token
    assert browser.get("/channelmodelview/list/").status_code == 200
    assert browser.post("/logout/").status_code == 302
    assert browser.get("/channelmodelview/list/").status_code == 302


def test_account_menu_offers_settings_and_exit(app, tree, login):
    page = login(tree.c_email, tree.password).get("/").get_data(as_text=True)
    assert "/account/" in page and 'id="exit-button"' in page


# --- forgot password -------------------------------------------------------------------------

def _challenge(page):
    return re.search(r'name="challenge"[^>]*value="([^"]+)"', page).group(1)


def _solve(app, page):
    """Read the picture, as a person would: the answer the picture shows."""
    return challenges.answer_for(app.config["SECRET_KEY"], _challenge(page))


def _forgot(app, email, answer=None, client=None):
    client = client or app.test_client()
    page = client.get("/password/forgot/").get_data(as_text=True)
    image = client.get(re.search(r'id="captcha-image" src="([^"]+)"', page).group(1))
    assert image.status_code == 200 and image.mimetype == "image/png"
    response = client.post("/password/forgot/", data={
        "email": email, "captcha": _solve(app, page).lower() if answer is None else answer,
        "challenge": _challenge(page), "csrf_token": csrf_token_from(page)})
    return client, response


def _reset_link(app, smtp_server, email):
    with app.app_context():
        send_due_mail(db.session, app)
    mails = [m for rcpts, m in smtp_server.received if email in rcpts]
    assert len(mails) == 1, [r for r, _ in smtp_server.received]
    body = mails[0].get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/password/reset/\S+)", body).group(1)


def test_forgot_password_mails_a_single_use_link(app, fresh_tree, smtp_server):
    client, response = _forgot(app, fresh_tree.c_email)
    assert response.status_code == 302
    assert "If this email is registered" in _page_after(client, response)
    link = _reset_link(app, smtp_server, fresh_tree.c_email)

    page = client.get(link).get_data(as_text=True)
    token = csrf_token_from(page)
    weak = client.post(link, data={"new_password": "short", "repeat_password": "short",
                                   "csrf_token": token})
    assert "at least 8" in weak.get_data(as_text=True)
    done = client.post(link, data={"new_password": "Reset-pass-1",
                                   "repeat_password": "Reset-pass-1", "csrf_token": token})
    assert done.status_code == 302
    assert _attempt(app, fresh_tree.c_email, "Reset-pass-1")[1].headers["Location"] == "/"
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_unknown_email_gets_the_same_answer_and_no_mail(app, smtp_server):
    client, response = _forgot(app, "ghost@nowhere.test")
    assert "If this email is registered" in _page_after(client, response)
    with app.app_context():
        send_due_mail(db.session, app)
    assert not [r for r, _ in smtp_server.received if "ghost@nowhere.test" in r]


def test_wrong_captcha_sends_nothing(app, fresh_tree, smtp_server):
    client, response = _forgot(app, fresh_tree.b_email, "WRONG")
    assert "captcha does not match" in response.get_data(as_text=True)
    with app.app_context():
        send_due_mail(db.session, app)
    assert not [r for r, _ in smtp_server.received if fresh_tree.b_email in r]


def test_captcha_cannot_be_replayed(app, fresh_tree):
    client = app.test_client()
    page = client.get("/password/forgot/").get_data(as_text=True)
    data = {"email": fresh_tree.b_email, "captcha": _solve(app, page),
            "challenge": _challenge(page), "csrf_token": csrf_token_from(page)}
    assert client.post("/password/forgot/", data=data).status_code == 302
    response = client.post("/password/forgot/", data=data)
    assert "captcha does not match" in response.get_data(as_text=True)


def test_a_wrong_answer_spends_the_challenge(app, fresh_tree):
    client = app.test_client()
    page = client.get("/password/forgot/").get_data(as_text=True)
    data = {"email": fresh_tree.b_email, "captcha": "WRONG", "challenge": _challenge(page),
            "csrf_token": csrf_token_from(page)}
    client.post("/password/forgot/", data=data)
    data["captcha"] = _solve(app, page)  # guessing again on the same picture does not work
    assert "captcha does not match" in client.post("/password/forgot/", data=data).get_data(
        as_text=True)


@pytest.mark.parametrize("challenge", ["forged", "x" * 300, ""])
def test_forged_challenges_are_refused(app, fresh_tree, challenge):
    client = app.test_client()
    page = client.get("/password/forgot/").get_data(as_text=True)
    response = client.post("/password/forgot/", data={
        "email": fresh_tree.b_email, "captcha": "ABCDE", "challenge": challenge,
        "csrf_token": csrf_token_from(page)})
    assert response.status_code == 200
    assert client.get(f"/password/captcha/{challenge or 'x'}.png").status_code == 404


@pytest.mark.parametrize("token", ["nope", "a" * 300, "%00"])
def test_tampered_reset_link_says_so(app, token):
    response = app.test_client().get(f"/password/reset/{token}")
    assert response.status_code == 410
    assert "not valid" in response.get_data(as_text=True)


def test_reset_posts_without_csrf_are_refused(app):
    assert app.test_client().post("/password/forgot/", data={
        "email": "a@b.test", "captcha": "x"}).status_code == 400


# --- account settings ------------------------------------------------------------------------

def test_account_settings_edit_basic_info_but_not_the_email(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    page = browser.get("/account/").get_data(as_text=True)
    assert fresh_tree.c_email in page
    response = browser.post("/account/", data={
        "first_name": "Carla", "last_name": "Ng", "phone": "+86 592 1234567",
        "language": "en", "email": "stolen@evil.test"})
    assert response.status_code == 302
    account = _account(app, fresh_tree.c)
    assert (account.first_name, account.phone) == ("Carla", "+86 592 1234567")
    assert account.email == fresh_tree.c_email


@pytest.mark.parametrize("data", [
    {"first_name": "x" * 10000, "last_name": "Ng", "language": "en"},
    {"first_name": "", "last_name": "Ng", "language": "en"},
    {"first_name": "A", "last_name": "Ng", "language": "klingon"},
    {"first_name": "A", "last_name": "Ng", "language": "en", "phone": "9" * 500},
])
def test_bad_account_settings_change_nothing(app, fresh_tree, login, data):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    response = browser.post("/account/", data=data)
    assert response.status_code == 200  # the form again, with the error
    assert _account(app, fresh_tree.c).first_name == "c"


def test_change_password_from_account_settings(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    wrong = browser.post("/account/password", data={
        "old_password": "nope", "new_password": "Next-pass-1", "repeat_password": "Next-pass-1"})
    assert "old password is wrong" in wrong.get_data(as_text=True)
    browser.post("/account/password", data={
        "old_password": fresh_tree.password, "new_password": "Next-pass-1",
        "repeat_password": "Next-pass-1"})
    assert Browser(app, fresh_tree.c_email, "Next-pass-1")


def test_settings_post_without_csrf_is_400(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    assert browser.client.post("/account/", data={"first_name": "Z", "last_name": "Z",
                                                   "language": "en"}).status_code == 400
    with app.app_context():
        assert db.session.execute(select(Account.first_name).where(
            Account.id == fresh_tree.c)).scalar() == "c"


def test_each_language_is_named_in_its_own_script_on_every_page(app):
    client = app.test_client()
    for lang in ("en", "zh"):
        page = client.get(f"/login/?lang={lang}").get_data(as_text=True)
        assert re.search(r'<option[^>]*value="zh"[^>]*>\s*简体中文\s*</option>', page), lang
        assert re.search(r'<option[^>]*value="en"[^>]*>\s*English\s*</option>', page), lang
        assert "Chinese</option>" not in page


def test_pages_carry_the_icon_and_favicon_ico_is_no_404(app):
    client = app.test_client()
    page = client.get("/login/").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    for url in ("/favicon.ico", "/static/favicon.svg"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "image/svg+xml", url
        assert r.get_data().startswith(b"<svg")
