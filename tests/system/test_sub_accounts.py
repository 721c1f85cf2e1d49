"""Sub account management (chapter 9) through HTTP: adding with features and data permission,
mail and the first-login password change, editing, resetting, deleting; forged ids of
another tree, roles not held, the master account and a sub-account itself: refused."""

import re
import uuid

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, select

from app.accounts import roles
from app.core.mail import send_due_mail
from app.extensions import db
from app.models import Account, AccountGrant, AccountKind, OperationLog, OutboxMessage

from ..conftest import Browser

LIST = "/subaccountmodelview/list/"


def _role_id(app, name):
    with app.app_context():
        return db.session.execute(select(Role.id).where(Role.name == name)).scalar_one()


def _account(app, email):
    with app.app_context():
        return db.session.execute(select(Account).where(Account.username == email)).scalar()


def _grants(app, account_id):
    with app.app_context():
        rows = db.session.execute(select(AccountGrant.channel_id, AccountGrant.enterprise_id)
                                  .where(AccountGrant.account_id == account_id)).all()
        return sorted(((c, e) for c, e in rows), key=lambda r: (r[0] or 0, r[1] or 0))


def _count(app, model):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar()


def _form(email, role_ids, targets, **extra):
    data = {"email": email, "first_name": "Fin", "last_name": "Ance", "phone": "",
            "language": "en", "features": [str(r) for r in role_ids], "targets": targets}
    data.update(extra)
    return data


def _errors(response):
    """The messages of a refused form, for the assertion's explanation."""
    return re.findall(r'(?:help-block|alert-danger)[^>]*>([^<]*)',
                      response.get_data(as_text=True))


def _new_email(t):
    return f"sub-{uuid.uuid4().hex[:6]}@{t.prefix}.test"


def _add(app, t, browser, role=roles.CHANNEL_FINANCE, targets=None):
    email = _new_email(t)
    response = browser.post("/subaccountmodelview/add", data=_form(
        email, [_role_id(app, role)], targets or [f"e:{t.E}"]))
    assert response.status_code == 302, _errors(response)
    return _account(app, email)


def test_master_adds_a_finance_sub_account_that_is_mailed_and_must_change_its_password(
        app, fresh_tree, login, smtp_server):
    t = fresh_tree
    master = login(t.a_email, t.password)
    account = _add(app, t, master, targets=[f"e:{t.E}", f"c:{t.C}"])
    assert account.kind == AccountKind.channel_sub and account.channel_id == t.A
    assert account.must_change_password
    with app.app_context():
        assert [r.name for r in db.session.get(Account, account.id).roles] == [
            roles.CHANNEL_FINANCE]
    assert _grants(app, account.id) == [(None, t.E), (t.C, None)]
    with app.app_context():
        send_due_mail(db.session, app)
    body = [m for rcpts, m in smtp_server.received if account.email in rcpts][-1] \
        .get_body(("plain",)).get_content()
    password = re.search(r"Temporary password: (\S+)", body).group(1)
    sub = Browser(app, account.email, password)
    assert "/account/password" in sub.get("/").headers["Location"]
    # the list shows it with its features and data permission
    page = master.get(LIST).get_data(as_text=True)
    assert account.email in page and "Finance" in page and f"{t.prefix}-E" in page
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(account.email)}.*?</tr>", page, re.S)
    assert '<span class="label label-success ymcs-badge">Active</span>' in row.group(0)


def test_the_form_offers_only_the_own_subtree(app, tree, login):
    page = login(tree.a_email, tree.password).get("/subaccountmodelview/add") \
        .get_data(as_text=True)
    assert f'value="e:{tree.E}"' in page and f'value="c:{tree.B}"' in page
    assert f'value="e:{tree.SE}"' not in page and f'value="c:{tree.S}"' not in page
    assert f'value="c:{tree.A}"' not in page  # its own channel is no sub-channel


def test_forged_ids_of_another_tree_or_roles_not_held_are_refused(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    before = (_count(app, Account), _count(app, AccountGrant))
    cases = [
        ([_role_id(app, roles.CHANNEL_FINANCE)], [f"e:{t.SE}"],
         "only give enterprises and sub-channels of your own channel"),
        ([_role_id(app, roles.CHANNEL_FINANCE)], [f"c:{t.S}"],
         "only give enterprises and sub-channels of your own channel"),
        ([_role_id(app, roles.CHANNEL_FINANCE)], [f"c:{t.A}"],
         "only give enterprises and sub-channels of your own channel"),
        ([_role_id(app, roles.ADMIN)], [f"e:{t.E}"], "a feature you do not hold"),
        ([_role_id(app, roles.ENTERPRISE_ADMIN)], [f"e:{t.E}"], "a feature you do not hold"),
        (["abc"], [f"e:{t.E}"], "a feature you do not hold"),
        ([], [f"e:{t.E}"], "Choose at least one feature"),
        ([_role_id(app, roles.CHANNEL_FINANCE)], [], "Choose at least one enterprise"),
        ([_role_id(app, roles.CHANNEL_FINANCE)], ["x:1"], "Unknown data permission"),
    ]
    for role_ids, targets, message in cases:
        response = master.post("/subaccountmodelview/add",
                               data=_form(_new_email(t), role_ids, targets))
        assert response.status_code == 400, (role_ids, targets)
        assert message in response.get_data(as_text=True)
    assert (_count(app, Account), _count(app, AccountGrant)) == before
    with app.app_context():  # each refusal is logged as a failure
        assert db.session.execute(select(func.count()).select_from(OperationLog).where(
            OperationLog.username == t.a_email, OperationLog.result == "failure",
            OperationLog.operation == "SubAccountModelView.add")).scalar() == len(cases)


def test_another_tree_gets_404_on_every_action(app, fresh_tree, login):
    t = fresh_tree
    other = login(t.s_email, t.password)
    for url in (f"/subaccountmodelview/edit/{t.sub}", f"/subaccountmodelview/show/{t.sub}"):
        assert other.get(url).status_code == 404
    assert other.post(f"/subaccountmodelview/edit/{t.sub}", data=_form(
        "", [_role_id(app, roles.CHANNEL_FINANCE)], [f"e:{t.SE}"])).status_code == 404
    assert other.post(f"/subaccountmodelview/delete/{t.sub}").status_code == 404
    assert other.post(f"/subaccountmodelview/action/resetpassword/{t.sub}").status_code == 404
    assert other.post("/subaccountmodelview/action_post",
                      data={"action": "delete", "rowid": [str(t.sub)]}).status_code == 404
    assert _account(app, t.sub_email) is not None
    assert t.sub_email not in other.get(LIST).get_data(as_text=True)


def test_master_accounts_are_never_sub_accounts(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    for pk in (t.a, t.b, t.admin):
        assert master.post(f"/subaccountmodelview/delete/{pk}").status_code == 404
        assert master.get(f"/subaccountmodelview/edit/{pk}").status_code == 404
    # one forged id in a batch refuses the whole batch
    assert master.post("/subaccountmodelview/action_post", data={
        "action": "delete", "rowid": [str(t.sub), str(t.a)]}).status_code == 404
    assert _account(app, t.a_email) and _account(app, t.sub_email)


def test_a_sub_account_never_manages_sub_accounts_nor_itself(app, fresh_tree, login):
    t = fresh_tree  # sub holds Channel Admin ("Full"): the permission, not the right
    sub = login(t.sub_email, t.password)
    assert sub.get(LIST).status_code == 403
    assert sub.get(f"/subaccountmodelview/edit/{t.sub}").status_code == 403
    response = sub.post(f"/subaccountmodelview/edit/{t.sub}", data=_form(
        "", [_role_id(app, roles.CHANNEL_ADMIN)], [f"c:{t.A}"]))
    assert response.status_code == 403
    assert sub.get("/subaccountmodelview/add").status_code == 403
    assert sub.post(f"/subaccountmodelview/delete/{t.sub}").status_code == 403
    assert _grants(app, t.sub) == [(t.B, None)]
    assert "Sub account management" not in sub.get("/").get_data(as_text=True)


def test_changes_apply_at_the_next_request_of_an_open_session(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    sub = login(t.sub_email, t.password)
    page = sub.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert f"{t.prefix}-E<" in page and f"{t.prefix}-EB<" in page
    response = master.post(f"/subaccountmodelview/edit/{t.sub}", data=_form(
        "", [_role_id(app, roles.CHANNEL_FINANCE)], [f"e:{t.EB}"], first_name="Renamed"))
    assert response.status_code == 302, _errors(response)
    # Finance now: no enterprise screen; orders of EB only
    assert sub.get("/enterprisemodelview/list/").status_code in (302, 403)
    assert sub.get("/ordermodelview/list/").status_code == 200
    assert _grants(app, t.sub) == [(None, t.EB)]
    assert _account(app, t.sub_email).first_name == "Renamed"
    # deleted: its open session ends
    assert master.post(f"/subaccountmodelview/delete/{t.sub}").status_code == 302
    assert _account(app, t.sub_email) is None and _grants(app, t.sub) == []
    response = sub.get("/ordermodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reset_password_mails_a_new_one_and_ends_sessions(app, fresh_tree, login):
    t = fresh_tree
    sub = login(t.sub_email, t.password)
    master = login(t.a_email, t.password)
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == t.sub_email)).scalar()
    assert master.post(f"/subaccountmodelview/action/resetpassword/{t.sub}") \
        .status_code == 302
    with app.app_context():
        after = db.session.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient == t.sub_email)).scalar()
    assert after > before and _account(app, t.sub_email).must_change_password
    assert "/login" in sub.get("/ordermodelview/list/").headers.get("Location", "")


def test_delete_several_with_the_bulk_action(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    one, two = _add(app, t, master), _add(app, t, master)
    response = master.post("/subaccountmodelview/action_post", data={
        "action": "delete", "rowid": [str(one.id), str(two.id)]})
    assert response.status_code == 302
    assert _account(app, one.email) is None and _account(app, two.email) is None
    said = re.search(r"Deleted sub accounts: ([^<]*)\.", master.get(LIST).get_data(
        as_text=True))
    assert said and sorted(said.group(1).split(", ")) == sorted([one.email, two.email])


def test_delete_one_names_it_and_status_is_a_badge(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    account = _add(app, t, master)
    shown = master.get(f"/subaccountmodelview/show/{account.id}").get_data(as_text=True)
    assert '<span class="label label-success ymcs-badge">Active</span>' in shown
    with app.app_context():
        db.session.get(Account, account.id).active = False
        db.session.commit()
    page = master.get(LIST, query_string={"q": account.email}).get_data(as_text=True)
    assert '<span class="label label-default ymcs-badge">Inactive</span>' in page
    shown = master.get(f"/subaccountmodelview/show/{account.id}").get_data(as_text=True)
    assert '<span class="label label-default ymcs-badge">Inactive</span>' in shown
    assert master.post(f"/subaccountmodelview/delete/{account.id}").status_code == 302
    assert f"Deleted sub accounts: {account.email}." in master.get(LIST).get_data(
        as_text=True)


def test_platform_admin_sees_and_edits_sub_accounts(app, fresh_tree, login):
    t = fresh_tree
    admin = login(t.admin_email, t.password)
    assert t.sub_email in admin.get(f"{LIST}?q=sub%40{t.prefix}").get_data(as_text=True)
    page = admin.get(f"/subaccountmodelview/edit/{t.sub}").get_data(as_text=True)
    assert f'value="c:{t.B}"' in page and f'value="e:{t.SE}"' not in page


def test_platform_admin_adds_a_sub_account_for_a_chosen_channel(app, fresh_tree, login):
    """Spec chapter 9: a sub account logs into YMCS for channel; the admin makes one for a
    channel it picks first, bounded by that channel's master and subtree."""
    t = fresh_tree
    admin = login(t.admin_email, t.password)
    chooser = admin.get("/subaccountmodelview/add").get_data(as_text=True)
    assert f'<option value="{t.A}">' in chooser and f'<option value="{t.S}">' in chooser
    page = admin.get(f"/subaccountmodelview/add?channel={t.A}").get_data(as_text=True)
    assert f'value="e:{t.E}"' in page and f'value="e:{t.SE}"' not in page
    email = _new_email(t)
    response = admin.post(f"/subaccountmodelview/add?channel={t.A}", data=_form(
        email, [_role_id(app, roles.CHANNEL_FINANCE)], [f"e:{t.E}"], channel=str(t.A)))
    assert response.status_code == 302, _errors(response)
    account = _account(app, email)
    assert account.kind == AccountKind.channel_sub and account.channel_id == t.A
    assert _grants(app, account.id) == [(None, t.E)]
    # A's master now manages it as its own
    assert email in login(t.a_email, t.password).get(LIST).get_data(as_text=True)


def test_platform_admin_refusals_when_adding(app, fresh_tree, login):
    t = fresh_tree
    with app.app_context():  # S's master holds Finance only: no more for S's sub accounts
        master = db.session.get(Account, t.s)
        master.roles = [db.session.execute(select(Role).where(
            Role.name == roles.CHANNEL_FINANCE)).scalar_one()]
        db.session.commit()
    admin = login(t.admin_email, t.password)
    finance = _role_id(app, roles.CHANNEL_FINANCE)
    before = (_count(app, Account), _count(app, AccountGrant))
    cases = [
        ("2199023255552", [finance], [f"e:{t.E}"], "Choose the channel"),
        ("abc", [finance], [f"e:{t.E}"], "Choose the channel"),
        ("", [finance], [f"e:{t.E}"], "Choose the channel"),
        (str(t.S), [finance], [f"e:{t.E}"], "only give enterprises and sub-channels"),
        (str(t.S), [_role_id(app, roles.CHANNEL_ADMIN)], [f"e:{t.SE}"],
         "a feature you do not hold"),
        (str(t.A), [_role_id(app, roles.ADMIN)], [f"e:{t.E}"], "a feature you do not hold"),
    ]
    for channel, role_ids, targets, message in cases:
        response = admin.post("/subaccountmodelview/add", data=_form(
            _new_email(t), role_ids, targets, channel=channel))
        assert response.status_code == 400, (channel, role_ids, targets)
        assert message in response.get_data(as_text=True), (channel, message)
    assert admin.get("/subaccountmodelview/add?channel=2199023255552").status_code == 400
    # S's form offers Finance only
    page = admin.get(f"/subaccountmodelview/add?channel={t.S}").get_data(as_text=True)
    assert f'value="{finance}"' in page
    assert f'value="{_role_id(app, roles.CHANNEL_ADMIN)}"' not in page
    assert (_count(app, Account), _count(app, AccountGrant)) == before


def test_a_master_cannot_add_to_another_channel_by_naming_it(app, fresh_tree, login):
    t = fresh_tree
    master = login(t.a_email, t.password)
    email = _new_email(t)
    response = master.post(f"/subaccountmodelview/add?channel={t.S}", data=_form(
        email, [_role_id(app, roles.CHANNEL_FINANCE)], [f"e:{t.E}"], channel=str(t.S)))
    assert response.status_code == 302, _errors(response)
    assert _account(app, email).channel_id == t.A  # its own channel, whatever the form says
