"""Select fields in WTForms 3.3's terms (app/form_fields.py): FAB's screens and ours render
their dropdowns without a deprecated construct, with the stored choice selected."""

import re
import warnings

from app.accounts import roles
from app.extensions import db
from app.models import Account, AccountKind


def _selected(page, name):
    """The values selected in the <select name=...> of the page."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r"<option([^>]*)>", select)
    return [re.search(r'value="([^"]*)"', attrs).group(1) for attrs in options
            if re.search(r"\bselected\b", attrs)]


def test_dropdowns_render_without_deprecated_choices_and_keep_the_stored_choice(
        app, fresh_tree, login):
    admin = login(fresh_tree.admin_email, fresh_tree.password)
    with app.app_context():
        role = app.appbuilder.sm.find_role(roles.CHANNEL_ADMIN)
    pages = {}
    with warnings.catch_warnings():
        # WTForms 3.3 warns of tuple choices and of iter_choices() yielding tuples (one
        # warning per option): here such a warning fails the page.
        warnings.simplefilter("error", DeprecationWarning)
        for url in (f"/users/edit/{fresh_tree.c}", "/users/add", f"/roles/edit/{role.id}",
                    "/channelmodelview/add", "/enterprisemodelview/add",
                    "/orderlimitmodelview/add"):
            response = admin.get(url)
            assert response.status_code == 200, url
            pages[url] = response.get_data(as_text=True)
    edit = pages[f"/users/edit/{fresh_tree.c}"]
    assert _selected(edit, "channel") == [str(fresh_tree.C)]
    assert _selected(edit, "roles") == [str(role.id)]
    assert _selected(edit, "kind") == ["channel_master"]


def test_the_account_form_saves_what_it_shows(app, fresh_tree, login):
    """Submitted as the browser sends it (the selected options' values), with a new name."""
    from .conftest import csrf_token_from

    admin = login(fresh_tree.admin_email, fresh_tree.password)
    page = admin.get(f"/users/edit/{fresh_tree.c}").get_data(as_text=True)
    admin.token = csrf_token_from(page)
    form = {name: value for name in ("kind", "channel", "roles")
            for value in _selected(page, name)}
    form.update(first_name="c", last_name="Renamed", username=fresh_tree.c_email,
                email=fresh_tree.c_email, active="y", language="en")
    assert admin.post(f"/users/edit/{fresh_tree.c}", data=form).status_code == 302
    with app.app_context():
        account = db.session.get(Account, fresh_tree.c)
        assert (account.last_name, account.kind) == ("Renamed", AccountKind.channel_master)
