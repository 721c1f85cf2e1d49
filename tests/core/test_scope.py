"""The scope rule without HTTP: A → B → C → enterprises, a sibling tree S, a sub-account."""

import pytest
from sqlalchemy import select

from app.core import scope
from app.models import Account, Channel, Device, Enterprise, OperationLog


def _principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def _names(session, query):
    return {row.name for row in session.execute(query).scalars()}


def _std(prefix, *keys):
    return {f"{prefix}-{k}" for k in keys}


@pytest.mark.parametrize("who, expected", [
    ("a", "A B C"), ("b", "B C"), ("c", "C"), ("s", "S"), ("sub", "B C"), ("ent", ""),
])
def test_visible_channels_are_own_subtree(db_session, tree, who, expected):
    principal = _principal(db_session, getattr(tree, who))
    got = _names(db_session, scope.visible_channels(select(Channel), principal))
    assert got == _std(tree.prefix, *expected.split())


@pytest.mark.parametrize("who, expected", [
    ("a", "B C"), ("b", "C"), ("c", ""), ("sub", "B C"),
])
def test_a_channel_manages_only_channels_below_it(db_session, tree, who, expected):
    principal = _principal(db_session, getattr(tree, who))
    got = _names(db_session, scope.manageable_channels(select(Channel), principal))
    assert got == _std(tree.prefix, *expected.split())


def test_admin_sees_every_channel(db_session, tree):
    principal = _principal(db_session, tree.admin)
    every = _names(db_session, select(Channel))
    assert _names(db_session, scope.visible_channels(select(Channel), principal)) == every
    assert _std(tree.prefix, "A", "S") <= every


@pytest.mark.parametrize("who, expected", [
    # each channel's generated same-name enterprise carries the channel's name
    ("a", "A B C E ER R EB"),
    ("b", "B C E ER R EB"),
    ("c", "C E ER R"),
    ("s", "S SE"),
    ("sub", "B C E ER R EB"),
    ("ent", "E"),
    ("rps", "R"),
])
def test_visible_enterprises(db_session, tree, who, expected):
    principal = _principal(db_session, getattr(tree, who))
    got = _names(db_session, scope.visible_enterprises(select(Enterprise), principal))
    assert got == _std(tree.prefix, *expected.split())


def _device_enterprises(session, principal):
    query = scope.visible_devices(select(Device), principal)
    return {d.enterprise.name for d in session.execute(query).scalars()}


@pytest.mark.parametrize("who, expected", [
    # ER rejected the authorization: its devices vanish for every channel above it;
    # R is RPS: its devices need no authorization although it is still pending.
    ("a", "E R EB"), ("b", "E R EB"), ("c", "E R"), ("s", "SE"), ("sub", "E R EB"),
    ("ent", "E"), ("rps", "R"),
])
def test_devices_need_authorization_except_rps(db_session, tree, who, expected):
    principal = _principal(db_session, getattr(tree, who))
    assert _device_enterprises(db_session, principal) == _std(tree.prefix, *expected.split())


def test_revoking_authorization_hides_devices_at_once(app, fresh_tree):
    from app.extensions import db
    from app.models import Authorization

    with app.app_context():
        principal = _principal(db.session, fresh_tree.c)
        assert f"{fresh_tree.prefix}-E" in _device_enterprises(db.session, principal)
        db.session.get(Enterprise, fresh_tree.E).authorization = Authorization.rejected
        db.session.commit()
        assert f"{fresh_tree.prefix}-E" not in _device_enterprises(db.session, principal)


@pytest.mark.parametrize("who, model, target", [
    ("b", Channel, "A"),      # the parent
    ("b", Channel, "S"),      # a sibling tree
    ("a", Enterprise, "SE"),
    ("s", Enterprise, "E"),
    ("c", Enterprise, "EB"),  # an enterprise of the parent channel
    ("ent", Enterprise, "ER"),
    ("sub", Channel, "A"),    # the sub-account's own channel was not granted to it
])
def test_get_out_of_scope_raises(db_session, tree, who, model, target):
    principal = _principal(db_session, getattr(tree, who))
    with pytest.raises(scope.OutOfScope):
        scope.get_or_raise(db_session, model, getattr(tree, target), principal)
    assert not scope.can_access(db_session, model, getattr(tree, target), principal)


def test_get_in_scope_returns_the_row(db_session, tree):
    principal = _principal(db_session, tree.a)
    assert scope.get_or_raise(db_session, Enterprise, tree.E, principal).id == tree.E
    assert scope.can_access(db_session, Channel, tree.C, principal)


def test_device_of_rejecting_enterprise_is_out_of_scope(db_session, tree):
    device = db_session.execute(select(Device).where(Device.enterprise_id == tree.ER)).scalar()
    with pytest.raises(scope.OutOfScope):
        scope.get_or_raise(db_session, Device, device.id, _principal(db_session, tree.c))


@pytest.mark.parametrize("bad", [None, "", "x", "1; drop table device", "9" * 40])
def test_garbage_ids_are_out_of_scope(db_session, tree, bad):
    with pytest.raises(scope.OutOfScope):
        scope.get_or_raise(db_session, Channel, bad, _principal(db_session, tree.admin))


def test_nobody_sees_nothing(db_session, tree):
    assert _names(db_session, scope.visible_channels(select(Channel), scope.NOBODY)) == set()
    assert _names(db_session, scope.visible_enterprises(select(Enterprise), scope.NOBODY)) == set()


def test_operation_logs_follow_the_tree(db_session, tree):
    rows = [
        OperationLog(username="in-c", channel_id=tree.C, operation="x"),
        OperationLog(username="in-e", enterprise_id=tree.E, operation="x"),
        OperationLog(username="in-s", channel_id=tree.S, operation="x"),
        OperationLog(username="in-a", channel_id=tree.A, operation="x"),
    ]
    db_session.add_all(rows)
    db_session.flush()

    def seen(who):
        query = scope.visible_operation_logs(
            select(OperationLog).where(OperationLog.id.in_([r.id for r in rows])),
            _principal(db_session, getattr(tree, who)))
        return {r.username for r in db_session.execute(query).scalars()}

    assert seen("a") == {"in-a", "in-c", "in-e"}
    assert seen("b") == {"in-c", "in-e"}
    assert seen("s") == {"in-s"}
    assert seen("ent") == {"in-e"}
    assert seen("admin") == {"in-a", "in-c", "in-e", "in-s"}
