"""Issue 18, "Signing in" over HTTP: the login page carries its words in every language (the
choice switches it in place), only a language chosen on purpose changes the account's, and
each portal carries its own name."""

import json
import re

import pytest

from app.extensions import db
from app.models import Account

from ..conftest import Browser, csrf_token_from


def _set_language(app, account_id, code):
    with app.app_context():
        db.session.get(Account, account_id).language = code
        db.session.commit()
        db.session.remove()


def _language(app, account_id):
    with app.app_context():
        return db.session.get(Account, account_id).language


def test_the_login_page_holds_its_words_in_every_language(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    texts = json.loads(re.search(
        r'<script type="application/json" id="login-texts">(.*?)</script>', page, re.S).group(1))
    assert texts["en"]["title"] == "Sign in to YMCS for Channel"
    assert texts["zh"]["title"] == "登录 YMCS 渠道平台"
    assert texts["zh"]["forgot"] == "忘记密码"
    # Nothing chosen yet: the hidden choice is empty, whatever the page's language.
    assert 'name="language" id="language-chosen" value=""' in page


def test_a_sign_in_with_the_language_left_alone_keeps_the_saved_one(app, fresh_tree):
    _set_language(app, fresh_tree.c, "zh")
    client = app.test_client()
    token = csrf_token_from(client.get("/login/").get_data(as_text=True))
    response = client.post("/login/", data={"username": fresh_tree.c_email, "language": "",
                                            "password": fresh_tree.password,
                                            "csrf_token": token})
    assert response.status_code == 302
    assert _language(app, fresh_tree.c) == "zh"
    assert "渠道管理" in client.get("/channelmodelview/list/").get_data(as_text=True)


def test_a_language_chosen_before_signing_in_is_a_choice(app, fresh_tree):
    _set_language(app, fresh_tree.c, "en")
    client = app.test_client()
    client.get("/lang/zh")  # what the login page's language box does
    page = client.get("/login/").get_data(as_text=True)
    assert 'id="language-chosen" value="zh"' in page
    response = client.post("/login/", data={"username": fresh_tree.c_email, "language": "zh",
                                            "password": fresh_tree.password,
                                            "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert _language(app, fresh_tree.c) == "zh"


@pytest.mark.parametrize("who, brand", [
    ("c", "YMCS for Channel"), ("admin", "YMCS for Channel"), ("ent", "YMCS for Enterprise"),
    ("rps", "YMCS for RPS Enterprise")])
def test_each_portal_carries_its_own_name(app, tree, who, brand):
    browser = Browser(app, getattr(tree, f"{who}_email"), tree.password)
    page = browser.get("/").get_data(as_text=True)
    assert f"<title>{brand}</title>" in page
    assert re.search(rf'class="navbar-brand">\s*<a [^>]*>\s*{brand}\s*</a>', page)
