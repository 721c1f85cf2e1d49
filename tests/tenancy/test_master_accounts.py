"""Chapter 3 through HTTP: adding enterprises and sub-channels with their master accounts,
mail about them, registered emails unique across accounts, password resets by the channel,
per-row freezing, searching."""

import re

import pytest
from sqlalchemy import func, select

from app.core.mail import send_due_mail
from app.extensions import db
from app.models import Account, AccountKind, Channel, Enterprise, OutboxMessage, Status

from ..conftest import Browser


def _one(app, model, **by):
    with app.app_context():
        return db.session.execute(select(model).filter_by(**by)).scalar_one_or_none()


def _mail_to(app, smtp_server, email):
    with app.app_context():
        send_due_mail(db.session, app)
    mails = [m for rcpts, m in smtp_server.received if email in rcpts]
    assert mails, f"no mail to {email}"
    return mails[-1].get_body(("plain",)).get_content()


def _password_in(body):
    return re.search(r"Temporary password: (\S+)", body).group(1)


def _add_enterprise(browser, **fields):
    data = {"name": "Kaixin", "permission_type": "device_management", "has_master_admin": "y",
            "email": "boss@kaixin.test", "country": "CN", "contact": "Li"}
    data.update(fields)
    return browser.post("/enterprisemodelview/add", data=data)


def test_enterprise_with_master_admin_gets_an_account_and_a_mail(app, fresh_tree, login,
                                                                 smtp_server):
    email = f"boss@{fresh_tree.prefix}.test"
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = _add_enterprise(browser, name=f"{fresh_tree.prefix}-new", email=email,
                               channel=str(fresh_tree.C))
    assert response.status_code == 302
    enterprise = _one(app, Enterprise, name=f"{fresh_tree.prefix}-new")
    account = _one(app, Account, username=email)
    assert account.kind == AccountKind.enterprise and account.enterprise_id == enterprise.id
    assert account.must_change_password
    body = _mail_to(app, smtp_server, email)
    assert "http://localhost/login/" in body
    # the mailed temporary password works, and must be changed first
    owner = Browser(app, email, _password_in(body))
    assert "/account/password" in owner.get("/").headers["Location"]


def test_rps_enterprise_admin_gets_the_rps_role(app, fresh_tree, login):
    email = f"rps-boss@{fresh_tree.prefix}.test"
    _add_enterprise(login(fresh_tree.a_email, fresh_tree.password), name="rps-new",
                    permission_type="rps", email=email, channel=str(fresh_tree.A))
    with app.app_context():
        account = db.session.execute(select(Account).filter_by(username=email)).scalar_one()
        assert [r.name for r in account.roles] == ["RPS Enterprise Admin"]


def test_enterprise_without_master_admin_has_no_account(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    response = _add_enterprise(browser, name=f"{fresh_tree.prefix}-solo", email="",
                               has_master_admin="", channel=str(fresh_tree.A))
    assert response.status_code == 302
    enterprise = _one(app, Enterprise, name=f"{fresh_tree.prefix}-solo")
    with app.app_context():
        assert not db.session.execute(select(Account).filter_by(
            enterprise_id=enterprise.id)).first()


def test_master_admin_without_email_is_refused(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    response = _add_enterprise(browser, name=f"{fresh_tree.prefix}-noemail", email="",
                               channel=str(fresh_tree.A))
    # The form again (not the list), with what was typed and the error at the email field.
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter the registered email: the master administrator signs in with it." in page
    assert f'value="{fresh_tree.prefix}-noemail"' in page
    assert _one(app, Enterprise, name=f"{fresh_tree.prefix}-noemail") is None


@pytest.mark.parametrize("taken", ["c", "ent"])
def test_registered_email_must_be_unique_across_accounts(app, fresh_tree, login, taken):
    email = getattr(fresh_tree, f"{taken}_email").upper()  # whatever the case
    browser = login(fresh_tree.a_email, fresh_tree.password)
    before = _count(app, OutboxMessage)
    response = _add_enterprise(browser, name=f"{fresh_tree.prefix}-dup", email=email,
                               channel=str(fresh_tree.A))
    page = response.get_data(as_text=True) + browser.get("/enterprisemodelview/list/").get_data(
        as_text=True)
    assert "This email address cannot be used." in page  # see test_email_refusals.py
    assert _one(app, Enterprise, name=f"{fresh_tree.prefix}-dup") is None
    assert _count(app, OutboxMessage) == before  # no mail for what was not created


def _count(app, model):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar()


@pytest.mark.parametrize("field, value", [
    ("name", "n" * 129), ("contact", "c" * 129), ("email", "not-an-email"),
    ("email", "x" * 10000), ("country", "XX"), ("permission_type", "superuser"),
])
def test_bad_enterprise_input_changes_nothing(app, fresh_tree, login, field, value):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    before = _count(app, Enterprise)
    response = _add_enterprise(browser, channel=str(fresh_tree.A),
                               **{"name": f"{fresh_tree.prefix}-bad", field: value})
    assert response.status_code == 200  # the form again, with its error
    assert _count(app, Enterprise) == before


def test_editing_the_registered_email_moves_the_login(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).has_master_admin = True
        db.session.commit()
    new = f"new-boss@{fresh_tree.prefix}.test"
    response = browser.post(f"/enterprisemodelview/edit/{fresh_tree.E}", data={
        "name": f"{fresh_tree.prefix}-E", "has_master_admin": "y", "email": new,
        "contact": "x", "country": "CN"})
    assert response.status_code == 302
    assert _one(app, Enterprise, id=fresh_tree.E).email == new
    assert _one(app, Account, id=fresh_tree.ent).username == new
    assert Browser(app, new, fresh_tree.password)


def test_editing_to_a_taken_email_is_refused(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    browser.post(f"/enterprisemodelview/edit/{fresh_tree.E}", data={
        "name": f"{fresh_tree.prefix}-E", "has_master_admin": "y",
        "email": fresh_tree.b_email, "contact": "x", "country": "CN"})
    assert _one(app, Enterprise, id=fresh_tree.E).email != fresh_tree.b_email
    assert _one(app, Account, id=fresh_tree.ent).username == fresh_tree.ent_email


def test_reset_password_mails_a_new_one_and_forces_a_change(app, fresh_tree, login,
                                                            smtp_server):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    response = browser.post(f"/enterprisemodelview/action/resetpassword/{fresh_tree.E}")
    assert response.status_code == 302
    body = _mail_to(app, smtp_server, fresh_tree.ent_email)
    owner = Browser(app, fresh_tree.ent_email, _password_in(body))
    assert "/account/password" in owner.get("/").headers["Location"]


def test_reset_password_of_another_tree_answers_404(app, fresh_tree, login):
    browser = login(fresh_tree.s_email, fresh_tree.password)
    assert browser.post(f"/enterprisemodelview/action/resetpassword/{fresh_tree.E}"
                        ).status_code == 404
    assert browser.post(f"/channelmodelview/action/resetpassword/{fresh_tree.C}"
                        ).status_code == 404
    assert Browser(app, fresh_tree.ent_email, fresh_tree.password)  # unchanged


def test_sub_channel_gets_a_master_account_and_may_nest(app, fresh_tree, login, smtp_server):
    email = f"deep@{fresh_tree.prefix}.test"
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = browser.post("/channelmodelview/add", data={
        "name": f"{fresh_tree.prefix}-deep", "email": email, "contact": "D",
        "can_add_subchannel": "y"})
    assert response.status_code == 302
    channel = _one(app, Channel, name=f"{fresh_tree.prefix}-deep")
    assert channel.parent_id == fresh_tree.B  # defaults to the adding channel
    owner = Browser(app, email, _password_in(_mail_to(app, smtp_server, email)))
    owner.post("/account/password", data={"old_password": _password_in(
        _mail_to(app, smtp_server, email)), "new_password": "Deep-pass-1",
        "repeat_password": "Deep-pass-1"})
    # the new channel may add its own sub-channel: any depth
    deeper = owner.post("/channelmodelview/add", data={
        "name": f"{fresh_tree.prefix}-deeper", "email": f"deeper@{fresh_tree.prefix}.test"})
    assert deeper.status_code == 302
    assert _one(app, Channel, name=f"{fresh_tree.prefix}-deeper").parent_id == channel.id
    # and A, two levels up, sees and manages both
    listing = login(fresh_tree.a_email, fresh_tree.password).get(
        f"/channelmodelview/list/?q={fresh_tree.prefix}-deep").get_data(as_text=True)
    assert f">{fresh_tree.prefix}-deeper<" in listing


def test_channel_cannot_attach_a_sub_channel_outside_its_subtree(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    browser.post("/channelmodelview/add", data={
        "name": f"{fresh_tree.prefix}-forged", "parent": str(fresh_tree.S),
        "email": f"forged@{fresh_tree.prefix}.test"})
    assert _one(app, Channel, name=f"{fresh_tree.prefix}-forged") is None


def test_freezing_a_channel_blocks_its_accounts_but_not_the_channels_above(app, fresh_tree,
                                                                           login):
    a = login(fresh_tree.a_email, fresh_tree.password)
    a.post(f"/channelmodelview/action/freeze/{fresh_tree.B}")
    assert _one(app, Channel, id=fresh_tree.B).status == Status.frozen
    refused = Browser(app)
    page = refused.client.get("/login/").get_data(as_text=True)
    assert "frozen" in _login_page_after(app, fresh_tree.b_email, fresh_tree.password)
    del page
    # A still manages B's subtree
    assert a.get(f"/channelmodelview/edit/{fresh_tree.C}").status_code == 200
    page = a.post(f"/channelmodelview/action/freeze/{fresh_tree.B}")
    assert "Already frozen" in a.get(page.headers["Location"]).get_data(as_text=True)
    a.post(f"/channelmodelview/action/unfreeze/{fresh_tree.B}")
    assert Browser(app, fresh_tree.b_email, fresh_tree.password)


def _login_page_after(app, email, password):
    from ..conftest import csrf_token_from

    client = app.test_client()
    token = csrf_token_from(client.get("/login/").get_data(as_text=True))
    response = client.post("/login/", data={"username": email, "password": password,
                                            "csrf_token": token})
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_list_rows_offer_the_spec_icons(app, tree, login):
    page = login(tree.a_email, tree.password).get(
        "/enterprisemodelview/list/?psize=200").get_data(as_text=True)
    assert f"/enterprisemodelview/action/freeze/{tree.E}" in page
    assert f"/enterprisemodelview/action/resetpassword/{tree.E}" in page
    assert f"/act-as/enterprise/{tree.E}" in page
    assert f"/act-as/enterprise/{tree.ER}" not in page  # not authorized: no way in
    assert f"/act-as/enterprise/{tree.R}" in page  # RPS: always


def test_search_finds_enterprises_by_any_part_of_name_email_or_contact(app, tree, login):
    browser = login(tree.a_email, tree.password)
    for q in ("td-E", "er@std", "ER"):
        page = browser.get(f"/enterprisemodelview/list/?q={q}").get_data(as_text=True)
        assert "std-ER" in page, q
    assert "std-EB" not in browser.get("/enterprisemodelview/list/?q=er@std").get_data(
        as_text=True)


def test_generated_enterprise_is_marked(app, tree, login):
    page = login(tree.a_email, tree.password).get(
        "/enterprisemodelview/list/?q=std-A").get_data(as_text=True)
    assert "Generated for the channel" in page


# --- a login belongs to its owner once used (security review, point 3) ------------------------

def _mails_to(app, smtp_server, email):
    with app.app_context():
        send_due_mail(db.session, app)
    return [m.get_body(("plain",)).get_content() for rcpts, m in smtp_server.received
            if email in rcpts]


def _edit_enterprise_email(browser, fresh_tree, email):
    return browser.post(f"/enterprisemodelview/edit/{fresh_tree.E}", data={
        "name": f"{fresh_tree.prefix}-E", "has_master_admin": "y", "email": email,
        "contact": "x", "country": "CN"})


def test_a_channel_cannot_take_over_an_enterprise_that_refused_it(app, fresh_tree, login,
                                                                  smtp_server):
    from app.models import Authorization

    from ..conftest import csrf_token_from

    # The enterprise's administrator signs in with its own password and refuses its channel.
    owner = login(fresh_tree.ent_email, fresh_tree.password)
    owner.post("/authorization/answer", data={"choice": "reject"})
    assert _one(app, Enterprise, id=fresh_tree.E).authorization == Authorization.rejected
    channel = login(fresh_tree.c_email, fresh_tree.password)
    mine = f"mine@{fresh_tree.prefix}.test"
    registered = _one(app, Enterprise, id=fresh_tree.E).email

    # 1. The channel moves the enterprise's registered email to its own: a form error.
    response = _edit_enterprise_email(channel, fresh_tree, mine)
    assert response.status_code == 200
    assert "has signed in, so its login belongs to it" in response.get_data(as_text=True)
    assert _one(app, Enterprise, id=fresh_tree.E).email == registered
    assert _one(app, Account, id=fresh_tree.ent).username == fresh_tree.ent_email

    # 2. Its password reset goes to the enterprise's own address, not the channel's.
    channel.post(f"/enterprisemodelview/action/resetpassword/{fresh_tree.E}")
    assert not _mails_to(app, smtp_server, mine)
    temporary = _password_in(_mails_to(app, smtp_server, fresh_tree.ent_email)[-1])

    # 3. The old password no longer opens the enterprise's portal, and the open session ended.
    assert owner.get("/devicemodelview/list/").status_code == 302
    refused = app.test_client()
    token = csrf_token_from(refused.get("/login/").get_data(as_text=True))
    assert "/login" in refused.post("/login/", data={
        "username": fresh_tree.ent_email, "password": fresh_tree.password,
        "csrf_token": token}).headers["Location"]

    # 4. Even a session opened with the mailed temporary password (had the channel read that
    # mailbox) cannot accept on the enterprise's behalf before choosing a password of its own.
    intruder = Browser(app, fresh_tree.ent_email, temporary)
    assert intruder.post("/authorization/answer", data={"choice": "accept"}).status_code == 403

    # 5. Nor can the channel from its own session, or by "going to the platform".
    assert channel.post("/authorization/answer", data={"choice": "accept"}
                        ).status_code in (403, 404)
    channel.post(f"/act-as/enterprise/{fresh_tree.E}")
    assert 'id="acting-banner"' not in channel.get("/").get_data(as_text=True)

    # The enterprise still refuses, and the channel sees none of its devices.
    assert _one(app, Enterprise, id=fresh_tree.E).authorization == Authorization.rejected
    assert f"{fresh_tree.prefix}-E<" not in channel.get(
        "/devicemodelview/list/?psize=200").get_data(as_text=True)


def test_a_sub_channels_login_belongs_to_it_once_used(app, fresh_tree, login):
    login(fresh_tree.c_email, fresh_tree.password)  # C's administrator has signed in
    parent = login(fresh_tree.b_email, fresh_tree.password)
    response = parent.post(f"/channelmodelview/edit/{fresh_tree.C}", data={
        "email": f"mine@{fresh_tree.prefix}.test", "name": f"{fresh_tree.prefix}-C",
        "contact": "x", "country": "CN"})
    assert response.status_code == 200
    assert "has signed in, so its login belongs to it" in response.get_data(as_text=True)
    assert _one(app, Channel, id=fresh_tree.C).email != f"mine@{fresh_tree.prefix}.test"
    assert _one(app, Account, id=fresh_tree.c).username == fresh_tree.c_email
    # other fields stay editable, the email unchanged
    response = parent.post(f"/channelmodelview/edit/{fresh_tree.C}", data={
        "email": fresh_tree.c_email, "name": f"{fresh_tree.prefix}-C", "contact": "Carla"})
    assert response.status_code == 302
    assert _one(app, Channel, id=fresh_tree.C).contact == "Carla"


def test_before_the_first_sign_in_both_addresses_are_told_of_a_new_login(app, fresh_tree,
                                                                         login, smtp_server):
    """A typo in the address may still be corrected while nobody has used the login."""
    channel = login(fresh_tree.c_email, fresh_tree.password)
    new = f"fixed@{fresh_tree.prefix}.test"
    assert _edit_enterprise_email(channel, fresh_tree, new).status_code == 302
    assert _one(app, Account, id=fresh_tree.ent).username == new
    for address in (fresh_tree.ent_email, new):
        (body,) = _mails_to(app, smtp_server, address)
        assert f"changed from {fresh_tree.ent_email} to {new}" in body


def test_the_owner_is_told_of_its_own_password_change(app, fresh_tree, login, smtp_server):
    owner = login(fresh_tree.ent_email, fresh_tree.password)
    owner.post("/account/password", data={
        "old_password": fresh_tree.password, "new_password": "Mine-alone-1",
        "repeat_password": "Mine-alone-1"})
    (body,) = _mails_to(app, smtp_server, fresh_tree.ent_email)
    assert "Your password was changed" in body
