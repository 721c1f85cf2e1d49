"""The top bar's language and account menus are rendered once per user and language
(app/core/menu_cache.py): each page still carries its own user's login, its language and a
working Exit form."""

import re

from ..conftest import Browser


def _exit_token(html):
    form = re.search(r'<form method="post" action="[^"]*" id="exit-form".*?</form>', html, re.S)
    assert form, "no Exit form on the page"
    return re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)


def test_each_user_sees_their_own_menus_and_exit_works(app, tree):
    c = Browser(app, tree.c_email, tree.password)
    b = Browser(app, tree.b_email, tree.password)
    for _ in range(2):  # the second time from the cache
        page_c = c.get("/").get_data(as_text=True)
        page_b = b.get("/").get_data(as_text=True)
        assert tree.c_email in page_c and tree.b_email not in page_c
        assert tree.b_email in page_b and tree.c_email not in page_b
    assert "\x00" not in page_c
    c.get("/lang/zh")
    chinese = c.get("/").get_data(as_text=True)
    assert "English" in chinese and "id=\"account-menu\"" in chinese  # the other language offered
    # The Exit form's token is the page's own: signing out works.
    response = c.client.post("/logout/", data={"csrf_token": _exit_token(chinese)})
    assert response.status_code == 302
    assert c.get("/").status_code == 302  # signed out: to the login page
