"""Chapters 1, 2 and 11 in the browser, in English and in Chinese: signing in with a language,
the forced first password change, the lockout message, Exit, and the forgotten password."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from app.accounts import challenges
from app.core.mail import send_due_mail
from app.extensions import db
from app.models import Account

from ..tree import build_tree
from .conftest import expect_message, login_through_form

TEXT = {
    "en": {"title": "Sign in to YMCS for Channel", "menu": "User Management",
           "forced": "Change password for safety", "settings": "Account Settings",
           "exit": "Exit", "saved": "Your password has been changed."},
    "zh": {"title": "登录 YMCS 渠道平台", "menu": "用户管理", "forced": "为了安全，请修改密码",
           "settings": "账号设置", "exit": "退出", "saved": "密码已修改。"},
}


@pytest.fixture
def tree(live_server):
    with live_server.app.app_context():
        t = build_tree(db.session, f"b{uuid.uuid4().hex[:6]}")
        ids = {"c_email": t.c.email, "c": t.c.id, "b_email": t.b.email, "password": t.password}
        db.session.remove()
    return ids


def _account(live_server, account_id):
    with live_server.app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def _choose_language(page, code):
    page.goto("/login/")
    page.locator("#language").select_option(code)  # the page switches in place
    expect(page.locator(f'#language[data-saved="{code}"]')).to_have_count(1)  # and remembers
    expect(page.locator(".panel-title").first).to_have_text(TEXT[code]["title"])


@pytest.mark.parametrize("code", ["en", "zh"])
def test_first_sign_in_changes_the_password_then_exits(live_server, anon_page, tree, code):
    with live_server.app.app_context():
        db.session.get(Account, tree["c"]).must_change_password = True
        db.session.commit()
    page = anon_page
    _choose_language(page, code)
    login_through_form(page, tree["c_email"], tree["password"])
    expect(page.locator("body")).to_contain_text(TEXT[code]["forced"])
    page.locator("#old_password").fill(tree["password"])
    page.locator("#new_password").fill("Fresh-pass-42")
    page.locator("#repeat_password").fill("Fresh-pass-42")
    page.locator("#password-form button[type=submit]").click()
    expect(page.locator("body")).to_contain_text(TEXT[code]["saved"])
    expect(page.locator(".navbar").first).to_contain_text(TEXT[code]["menu"])
    assert _account(live_server, tree["c"]).language == code

    page.locator("#account-menu > a").click()
    expect(page.get_by_text(TEXT[code]["settings"]).first).to_be_visible()
    page.locator("#exit-button").click()
    page.wait_for_url("**/login/**")
    page.goto("/channelmodelview/list/")
    page.wait_for_url("**/login/**")


def test_ten_wrong_passwords_show_the_lock_and_its_time(anon_page, tree):
    page = anon_page
    for _ in range(10):
        page.goto("/login/")
        page.locator('input[name="username"]').fill(tree["b_email"])
        page.locator('input[name="password"]').fill("not-the-password-1")
        page.locator("#login-form button[type=submit]").click()
        page.wait_for_url("**/login/**")
    expect(page.locator("body")).to_contain_text("locked for 5 minutes")
    expect(page.locator("body")).to_contain_text(re.compile(r"Try again in \d min \d\d s"))


@pytest.mark.parametrize("code", ["en", "zh"])
def test_forgotten_password_by_mail(live_server, anon_page, tree, smtp_server, code):
    page = anon_page
    _choose_language(page, code)
    page.locator("a[href*='/password/forgot/']").click()
    captcha = page.locator("#captcha-image")
    expect(captcha).to_be_visible()
    page.wait_for_function("document.getElementById('captcha-image').naturalWidth > 0")
    page.locator("#email").fill(tree["c_email"])
    challenge = page.locator("input[name=challenge]").input_value()
    answer = challenges.answer_for(live_server.app.config["SECRET_KEY"], challenge)
    page.locator("#captcha").fill(answer.lower())  # what the picture shows
    page.locator("#forgot-form button[type=submit]").click()
    page.wait_for_url("**/login/**")
    expect_message(page, "info", "10 minutes" if code == "en" else "10 分钟")

    with live_server.app.app_context():
        send_due_mail(db.session, live_server.app)
        db.session.remove()
    mail = next(m for rcpts, m in smtp_server.received if tree["c_email"] in rcpts)
    link = re.search(r"(/password/reset/\S+)", mail.get_body(("plain",)).get_content()).group(1)

    page.goto(link)
    page.locator("#new_password").fill("From-mail-77")
    page.locator("#repeat_password").fill("From-mail-77")
    page.locator("#reset-form button[type=submit]").click()
    page.wait_for_url("**/login/**")
    login_through_form(page, tree["c_email"], "From-mail-77")
    page.goto(link)
    expect(page.locator("#reset-error")).to_be_visible()


def test_idle_page_goes_to_login_after_thirty_minutes(anon_page, tree):
    page = anon_page
    page.clock.install()
    login_through_form(page, tree["b_email"], tree["password"])
    page.goto("/enterprisemodelview/list/")
    listed = page.locator(".ymcs-list")
    expect(listed).to_be_visible()
    # Its timer is set: the script marks itself once it ran (a script waits for the page's
    # style sheets, so being in the page is not enough; a clock moved before it ran once
    # left the timer 29 minutes later than the test thought).
    expect(page.locator("#idle-logout[data-armed]")).to_be_attached()
    page.clock.fast_forward("29:00")
    expect(listed).to_be_visible()  # 29 minutes: still there, still signed in
    assert "/enterprisemodelview/list/" in page.url
    page.clock.fast_forward("01:01")
    # What the person sees: the login form, in place of the list (the page signed out and
    # went there by itself; however long that takes on a busy machine, it is the event).
    expect(page.locator("#login-form")).to_be_visible()
    expect(listed).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto("/enterprisemodelview/list/")  # really signed out, not just shown the form
    expect(page.locator("#login-form")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/"))
