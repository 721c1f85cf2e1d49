"""Entering further down from inside a sub-channel (A → B → C → enterprise E): the banner
names the whole way, "Back" returns to one's own portal, and another tree's ids are 404."""

import pytest

from app.core import scope
from app.extensions import db
from app.models import Account, Channel, Status
from app.tenancy import acting


def _principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def test_entering_further_checks_the_visited_channels_scope(db_session, tree):
    visit = acting.enter_channel(db_session, _principal(db_session, tree.a), "a", tree.B)
    deeper = acting.enter_further(db_session, visit, "channel", tree.C)
    assert deeper.principal.channel_id == tree.C and deeper.path == ["std-B", "std-C"]
    assert deeper.actor_username == "a"
    last = acting.enter_further(db_session, deeper, "enterprise", tree.E)
    assert last.path == ["std-B", "std-C", "std-E"]
    # B's visit cannot reach B itself, its parent or the sibling tree
    for kind, target in [("channel", tree.B), ("channel", tree.A), ("channel", tree.S),
                         ("enterprise", tree.SE)]:
        with pytest.raises(scope.OutOfScope):
            acting.enter_further(db_session, visit, kind, target)
    # an enterprise's visit enters nothing
    with pytest.raises(scope.OutOfScope):
        acting.enter_further(db_session, last, "channel", tree.C)


def test_a_stored_path_is_checked_step_by_step(db_session, tree):
    a = _principal(db_session, tree.a)
    stored = {"kind": "enterprise", "id": tree.E, "via": [["channel", tree.B],
                                                        ["channel", tree.C]]}
    visit = acting.resume(db_session, a, "a", stored)
    assert visit.to_session() == stored and visit.path == ["std-B", "std-C", "std-E"]
    # a forged way down through another tree is refused, however it ends
    for via in ([["channel", tree.S]], [["enterprise", tree.E]], ["x"], [["channel", "B"]]):
        with pytest.raises(scope.OutOfScope):
            acting.resume(db_session, a, "a", {"kind": "channel", "id": tree.C, "via": via})


def test_entering_further_over_http_shows_the_whole_path(app, tree, login):
    browser = login(tree.a_email, tree.password)
    assert browser.post(f"/act-as/channel/{tree.B}").status_code == 302
    page = browser.get("/channelmodelview/list/").get_data(as_text=True)
    assert f'/act-as/channel/{tree.C}"' in page  # the icon is offered...
    assert browser.post(f"/act-as/channel/{tree.C}").status_code == 302  # ...and works
    page = browser.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert 'id="acting-path"' in page and "std-B › std-C" in page
    assert f'/act-as/enterprise/{tree.E}"' in page
    assert browser.post(f"/act-as/enterprise/{tree.E}").status_code == 302
    page = browser.get("/devicemodelview/list/").get_data(as_text=True)
    assert "std-B › std-C › std-E" in page
    assert "You are working in the enterprise std-E" in page
    assert browser.get("/channelmodelview/list/").status_code == 403  # an enterprise's role
    browser.post("/act-as/stop")  # Back: one's own portal, not one step up
    page = browser.get("/channelmodelview/list/").get_data(as_text=True)
    assert 'id="acting-banner"' not in page and f'/channelmodelview/show/{tree.B}"' in page


@pytest.mark.parametrize("kind, target", [("enterprise", "SE"), ("channel", "S"),
                                          ("channel", "A"), ("channel", "B"),
                                          ("enterprise", "nope")])
def test_entering_another_trees_ids_from_inside_answers_404(app, tree, login, kind, target):
    browser = login(tree.a_email, tree.password)
    browser.post(f"/act-as/channel/{tree.B}")
    assert browser.post(f"/act-as/{kind}/{getattr(tree, target, target)}").status_code == 404
    page = browser.get("/").get_data(as_text=True)
    # still in B, where the person was
    assert "You are working in the channel std-B" in page and 'id="acting-path"' not in page


def test_freezing_a_step_on_the_way_ends_the_visit(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    browser.post(f"/act-as/channel/{fresh_tree.B}")
    browser.post(f"/act-as/channel/{fresh_tree.C}")
    assert 'id="acting-path"' in browser.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.get(Channel, fresh_tree.B).status = Status.frozen
        db.session.commit()
    assert browser.get("/devicemodelview/list/").status_code == 302
    page = browser.get("/").get_data(as_text=True)
    assert "Your visit has ended" in page and 'id="acting-banner"' not in page
