"""The sub-account rules without HTTP: what may be handed out, which data, to whom."""

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.accounts import roles
from app.core import scope
from app.models import Account, AccountKind
from app.system import rules


def _principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def _role(session, name):
    return session.execute(select(Role).where(Role.name == name)).scalar_one()


def test_a_master_may_hand_out_every_sub_account_role(db_session, tree):
    names = [r.name for r in rules.assignable_roles(db_session, _principal(db_session, tree.a))]
    assert names == list(rules.SUB_ACCOUNT_ROLES)


def test_never_more_than_the_creator_holds(db_session, fresh_tree):
    master = db_session.get(Account, fresh_tree.a)
    master.roles = [_role(db_session, roles.CHANNEL_FINANCE)]
    db_session.flush()
    principal = _principal(db_session, fresh_tree.a)
    assert [r.name for r in rules.assignable_roles(db_session, principal)] == [
        roles.CHANNEL_FINANCE]
    full = _role(db_session, roles.CHANNEL_ADMIN)
    with pytest.raises(rules.SubAccountError) as refused:
        rules.chosen_roles(db_session, principal, [str(full.id)])
    assert refused.value.template == rules.ROLE_REFUSED
    admin_role = _role(db_session, roles.ADMIN)
    with pytest.raises(rules.SubAccountError):
        rules.chosen_roles(db_session, principal, [str(admin_role.id)])


def test_data_permission_stays_inside_the_subtree(db_session, tree):
    rules.check_targets(db_session, tree.A, {tree.B, tree.C}, {tree.E, tree.EB})
    for channels, enterprises in (({tree.S}, set()), (set(), {tree.SE}), ({tree.A}, set()),
                                  ({2**40}, set()), (set(), set())):
        with pytest.raises(rules.SubAccountError):
            rules.check_targets(db_session, tree.A, channels, enterprises)
    # B's master may give C and E, not B itself or EB's parent
    rules.check_targets(db_session, tree.B, {tree.C}, {tree.E, tree.EB})
    with pytest.raises(rules.SubAccountError):
        rules.check_targets(db_session, tree.B, {tree.B}, set())


def test_targets_parse_or_refuse(db_session):
    assert rules.parse_targets(["c:3", "e:4", "e:5"]) == ({3}, {4, 5})
    for bad in (["x:1"], ["c:abc"], ["e:-1"], ["e"], [f"c:{2**70}"]):
        with pytest.raises(rules.SubAccountError):
            rules.parse_targets(bad)


def test_only_masters_and_the_admin_manage_and_never_a_master(db_session, tree):
    sub = db_session.get(Account, tree.sub)
    master = _principal(db_session, tree.a)
    rules.check_manageable(master, sub)
    rules.check_manageable(_principal(db_session, tree.admin), sub)
    for who in (tree.sub, tree.s, tree.b, tree.ent):
        with pytest.raises((scope.OutOfScope, rules.SubAccountError)):
            rules.check_manageable(_principal(db_session, who), sub)
    for target in (tree.a, tree.b):
        with pytest.raises(scope.OutOfScope):
            rules.check_manageable(master, db_session.get(Account, target))
    assert not rules.may_manage_sub_accounts(_principal(db_session, tree.sub))
    assert db_session.get(Account, tree.sub).kind == AccountKind.channel_sub


def test_the_data_permission_tree_lists_the_subtree_in_order(db_session, tree):
    shown = [(kind, row.id, depth) for kind, row, depth in rules.grant_tree(db_session, tree.A)]
    ids = [(kind, pk) for kind, pk, _depth in shown]
    assert ("c", tree.B) in ids and ("c", tree.C) in ids and ("e", tree.E) in ids
    assert ("c", tree.A) not in ids and ("c", tree.S) not in ids and ("e", tree.SE) not in ids
    # B, then B's enterprises and C below it, then C's enterprises deeper still
    assert ids.index(("c", tree.B)) < ids.index(("e", tree.EB)) < ids.index(("c", tree.C)) \
        < ids.index(("e", tree.E))
    depth = {(kind, pk): d for kind, pk, d in shown}
    assert depth[("c", tree.B)] == 0 and depth[("c", tree.C)] == 1 and depth[("e", tree.E)] == 2


def test_the_admin_adds_for_a_channel_within_its_master_and_subtree(db_session, fresh_tree):
    t = fresh_tree
    admin = _principal(db_session, t.admin)
    with pytest.raises(rules.SubAccountError) as refused:
        rules.channel_for_new_sub_account(db_session, admin, None)
    assert refused.value.template == rules.NO_CHANNEL
    with pytest.raises(rules.SubAccountError):
        rules.channel_for_new_sub_account(db_session, admin, str(2**40))
    assert rules.channel_for_new_sub_account(db_session, admin, str(t.S)) == t.S
    # a master's own channel, whatever it names
    master = _principal(db_session, t.a)
    assert rules.channel_for_new_sub_account(db_session, master, str(t.S)) == t.A
    with pytest.raises(rules.SubAccountError):
        rules.channel_for_new_sub_account(db_session, _principal(db_session, t.sub), t.A)
    # bounded by the channel's master: S's holds Finance only
    db_session.get(Account, t.s).roles = [_role(db_session, roles.CHANNEL_FINANCE)]
    db_session.flush()
    assert [r.name for r in rules.assignable_roles(db_session, admin, t.S)] == [
        roles.CHANNEL_FINANCE]
    assert [r.name for r in rules.assignable_roles(db_session, admin, None)] == list(
        rules.SUB_ACCOUNT_ROLES)
