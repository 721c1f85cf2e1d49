"""A channel entering an enterprise's or sub-channel's portal, and the enterprise's answer to
its channel's authorization."""

import pytest
from sqlalchemy import select

from app.core import scope
from app.extensions import db
from app.models import Account, Authorization, Enterprise, OperationLog, Status
from app.tenancy import acting


def _principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


# --- rules without HTTP ------------------------------------------------------------------------

def test_channel_enters_an_authorized_enterprise_with_its_scope(db_session, tree):
    visit = acting.enter_enterprise(db_session, _principal(db_session, tree.a), "a", tree.E)
    assert visit.principal.enterprise_id == tree.E and visit.role_name == "Enterprise Admin"
    assert scope.can_access(db_session, Enterprise, tree.E, visit.principal)
    assert not scope.can_access(db_session, Enterprise, tree.EB, visit.principal)


def test_unauthorized_dm_enterprise_cannot_be_entered(db_session, tree):
    with pytest.raises(acting.ActAsRefused, match="not authorized"):
        acting.enter_enterprise(db_session, _principal(db_session, tree.c), "c", tree.ER)


def test_rps_enterprise_is_entered_without_authorization(db_session, tree):
    visit = acting.enter_enterprise(db_session, _principal(db_session, tree.c), "c", tree.R)
    assert visit.role_name == "RPS Enterprise Admin"


@pytest.mark.parametrize("who, target", [("s", "E"), ("c", "EB"), ("ent", "E")])
def test_enterprises_out_of_scope_cannot_be_entered(db_session, tree, who, target):
    with pytest.raises(scope.OutOfScope):
        acting.enter_enterprise(db_session, _principal(db_session, getattr(tree, who)), who,
                                getattr(tree, target))


@pytest.mark.parametrize("who, target", [("b", "B"), ("b", "A"), ("b", "S"), ("c", "C")])
def test_only_channels_below_can_be_entered(db_session, tree, who, target):
    with pytest.raises(scope.OutOfScope):
        acting.enter_channel(db_session, _principal(db_session, getattr(tree, who)), who,
                             getattr(tree, target))


def test_frozen_tenants_cannot_be_entered(db_session, fresh_tree):
    db_session.get(Enterprise, fresh_tree.E).status = Status.frozen
    with pytest.raises(acting.ActAsRefused, match="frozen"):
        acting.enter_enterprise(db_session, _principal(db_session, fresh_tree.a), "a",
                                fresh_tree.E)
    db_session.rollback()


# --- through HTTP -------------------------------------------------------------------------------

def test_entering_an_enterprise_shows_the_banner_and_its_devices_only(app, tree, login):
    browser = login(tree.a_email, tree.password)
    response = browser.post(f"/act-as/enterprise/{tree.E}")
    assert response.status_code == 302
    page = browser.get("/devicemodelview/list/?psize=200").get_data(as_text=True)
    assert 'id="acting-banner"' in page and "std-E" in page and tree.a_email in page
    assert "std-EB" not in page
    # its role: an enterprise admin's screens, not Channel Management
    assert browser.get("/channelmodelview/list/").status_code == 403
    browser.post("/act-as/stop")
    page = browser.get("/channelmodelview/list/").get_data(as_text=True)
    assert 'id="acting-banner"' not in page and "std-B" in page


def test_entering_a_sub_channel_works_inside_its_subtree(app, tree, login):
    browser = login(tree.a_email, tree.password)
    browser.post(f"/act-as/channel/{tree.B}")
    page = browser.get("/channelmodelview/list/").get_data(as_text=True)
    assert ">std-C<" in page  # B manages C...
    assert f"/channelmodelview/show/{tree.B}\"" not in page  # ...not itself
    assert browser.get(f"/enterprisemodelview/show/{tree.SE}").status_code == 404


def test_unauthorized_enterprise_by_url_is_refused_with_a_message(app, tree, login):
    browser = login(tree.c_email, tree.password)
    response = browser.post(f"/act-as/enterprise/{tree.ER}")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "has not authorized your channel" in page and 'id="acting-banner"' not in page


@pytest.mark.parametrize("kind, target", [("enterprise", "SE"), ("channel", "S"),
                                          ("channel", "A"), ("enterprise", "nope")])
def test_entering_another_tree_answers_404(app, tree, login, kind, target):
    browser = login(tree.b_email, tree.password)
    pk = getattr(tree, target, target)
    assert browser.post(f"/act-as/{kind}/{pk}").status_code == 404


def test_entering_by_get_is_refused(app, tree, login):
    assert login(tree.a_email, tree.password).get(
        f"/act-as/enterprise/{tree.E}").status_code == 405


def test_enterprise_accounts_cannot_enter_anything(app, tree, login):
    assert login(tree.ent_email, tree.password).post(
        f"/act-as/enterprise/{tree.E}").status_code == 403


def test_a_visit_ends_when_authorization_is_revoked(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    browser.post(f"/act-as/enterprise/{fresh_tree.E}")
    assert 'id="acting-banner"' in browser.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).authorization = Authorization.rejected
        db.session.commit()
    response = browser.get("/devicemodelview/list/")
    assert response.status_code == 302
    page = browser.get("/").get_data(as_text=True)
    assert "Your visit has ended" in page and 'id="acting-banner"' not in page


def test_actions_while_visiting_are_logged_with_both_identities(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    browser.post(f"/act-as/channel/{fresh_tree.B}")
    browser.post("/enterprisemodelview/action_post",
                 data={"action": "freeze", "rowid": [str(fresh_tree.EB)]})
    with app.app_context():
        row = db.session.execute(select(OperationLog).where(
            OperationLog.actor_username == fresh_tree.a_email,
            OperationLog.operation == "EnterpriseModelView.action_post:freeze")).scalar_one()
        assert row.username == f"channel:{fresh_tree.prefix}-B"
        assert row.channel_id == fresh_tree.B
        assert db.session.get(Enterprise, fresh_tree.EB).status == Status.frozen


def test_visitor_cannot_answer_the_enterprise_authorization(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    browser.post(f"/act-as/enterprise/{fresh_tree.E}")
    assert browser.post("/authorization/answer", data={"choice": "accept"}).status_code == 403
    assert browser.get("/authorization/").status_code == 403


# --- the enterprise's answer ---------------------------------------------------------------

def test_first_login_of_an_enterprise_admin_asks_for_the_authorization(app, fresh_tree, login):
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).authorization_answered_on = None  # unasked
        db.session.commit()
    browser = login(fresh_tree.ent_email, fresh_tree.password)
    response = browser.get("/devicemodelview/list/")
    assert response.status_code == 302 and "/authorization/prompt" in response.headers[
        "Location"]
    page = browser.get("/authorization/prompt").get_data(as_text=True)
    assert f"{fresh_tree.prefix}-C" in page  # names the channel
    browser.post("/authorization/answer", data={"choice": "reject", "next": "home"})
    assert browser.get("/devicemodelview/list/").status_code == 200  # asked once only
    with app.app_context():
        e = db.session.get(Enterprise, fresh_tree.E)
        assert e.authorization == Authorization.rejected and e.authorization_answered_on
    # the channel now sees neither its devices nor may enter it
    channel = login(fresh_tree.c_email, fresh_tree.password)
    assert f"{fresh_tree.prefix}-E<" not in channel.get(
        "/devicemodelview/list/?psize=200").get_data(as_text=True)
    assert "Not authorized" in channel.get(
        f"/enterprisemodelview/list/?q={fresh_tree.prefix}-E").get_data(as_text=True)
    # and the enterprise grants it again from Authorized Channels
    page = browser.get("/authorization/").get_data(as_text=True)
    assert "Not authorized" in page
    browser.post("/authorization/answer", data={"choice": "accept"})
    assert f"{fresh_tree.prefix}-E<" in channel.get(
        "/devicemodelview/list/?psize=200").get_data(as_text=True)


def test_authorization_menu_only_for_enterprises_with_a_master_admin(app, fresh_tree, login):
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).has_master_admin = False
        db.session.commit()
    browser = login(fresh_tree.ent_email, fresh_tree.password)
    assert "Authorized Channels" not in browser.get("/devicemodelview/list/").get_data(
        as_text=True)
    assert browser.get("/authorization/").status_code == 404
    with app.app_context():
        e = db.session.get(Enterprise, fresh_tree.E)
        e.has_master_admin = True
        e.authorization_answered_on = e.created_on
        db.session.commit()
    assert "Authorized Channels" in browser.get("/devicemodelview/list/").get_data(
        as_text=True)


def test_bad_authorization_answer_is_400_and_changes_nothing(app, fresh_tree, login):
    with app.app_context():
        db.session.get(Enterprise, fresh_tree.E).authorization_answered_on = None
        db.session.commit()
    browser = login(fresh_tree.ent_email, fresh_tree.password)
    assert browser.post("/authorization/answer", data={"choice": "maybe"}).status_code == 400
    with app.app_context():
        assert db.session.get(Enterprise, fresh_tree.E).authorization_answered_on is None


# --- who may answer (security review, point 3) -------------------------------------------------

def test_only_the_enterprises_own_administrator_answers(db_session, fresh_tree):
    from app.tenancy import rules as tenants

    enterprise = db_session.get(Enterprise, fresh_tree.E)
    own = db_session.get(Account, fresh_tree.ent)
    refused = [
        (own, True),  # a channel visiting the enterprise ("go to the platform")
        (db_session.get(Account, fresh_tree.c), False),  # the channel itself
        (db_session.get(Account, fresh_tree.rps), False),  # another enterprise's admin
    ]
    for account, visiting in refused:
        with pytest.raises(tenants.TenantError, match="own administrator"):
            tenants.answer_authorization(enterprise, account, True, visiting)
    # a password someone else set (a channel's reset), not yet replaced by its own
    own.must_change_password = True
    with pytest.raises(tenants.TenantError, match="own administrator"):
        tenants.answer_authorization(enterprise, own, False, visiting=False)
    assert enterprise.authorization == Authorization.accepted
    own.must_change_password = False
    tenants.answer_authorization(enterprise, own, False, visiting=False)
    assert enterprise.authorization == Authorization.rejected
    db_session.rollback()
