"""The relational core: MAC normalisation, the closure table, channel creation."""

import pytest
from sqlalchemy import select

from app.models import ChannelClosure, Device, Enterprise, InvalidMac, normalize_mac
from app.tenancy import rules as tenants


@pytest.mark.parametrize("raw, expected", [
    ("00:15:65:AA:BB:CC", "001565aabbcc"),
    ("00-15-65-aa-bb-cc", "001565aabbcc"),
    ("0015.65aa.bbcc", "001565aabbcc"),
    ("001565AABBCC", "001565aabbcc"),
])
def test_mac_is_normalized(raw, expected):
    assert normalize_mac(raw) == expected
    assert Device(mac=raw).mac == expected


@pytest.mark.parametrize("raw", ["", None, "00:15:65", "zz1565aabbcc", "001565aabbccdd"])
def test_bad_mac_is_refused(raw):
    with pytest.raises(InvalidMac):
        normalize_mac(raw)


def test_mac_is_unique_whatever_its_spelling(db_session, fresh_tree):
    # a tree of its own: the device it keeps would change the shared tree's counts
    from sqlalchemy.exc import IntegrityError

    db_session.add(Device(mac="02:BB:00:00:00:01", enterprise_id=fresh_tree.E))
    db_session.commit()
    db_session.add(Device(mac="02bb00000001", enterprise_id=fresh_tree.E))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


def test_closure_rows_are_written_with_the_channel(db_session):
    a = tenants.create_channel(db_session, "cl-A")
    b = tenants.create_channel(db_session, "cl-B", parent=a)
    c = tenants.create_channel(db_session, "cl-C", parent=b)
    d = tenants.create_channel(db_session, "cl-D", parent=c)
    db_session.flush()
    rows = db_session.execute(
        select(ChannelClosure.ancestor_id, ChannelClosure.descendant_id, ChannelClosure.depth)
        .where(ChannelClosure.descendant_id == d.id)).all()
    assert {(r.ancestor_id, r.depth) for r in rows} == {(d.id, 0), (c.id, 1), (b.id, 2),
                                                          (a.id, 3)}
    db_session.rollback()
    # rolled back together: no closure row outlives its channel
    assert db_session.execute(
        select(ChannelClosure).where(ChannelClosure.descendant_id == d.id)).first() is None


def test_every_channel_gets_its_same_name_enterprise(db_session):
    channel = tenants.create_channel(db_session, "own-ent-channel")
    db_session.flush()
    own = db_session.execute(select(Enterprise).where(Enterprise.channel_id == channel.id)).scalar()
    assert own.name == "own-ent-channel" and own.is_channel_own
    db_session.rollback()


def test_a_channel_cannot_be_moved(db_session, fresh_tree):
    from app.models import Channel

    channel = db_session.get(Channel, fresh_tree.C)
    channel.parent_id = fresh_tree.S
    with pytest.raises(ValueError, match="cannot be moved"):
        db_session.flush()
    db_session.rollback()


def test_freezing_twice_changes_nothing_the_second_time(db_session, fresh_tree):
    enterprise = db_session.get(Enterprise, fresh_tree.E)
    assert tenants.freeze([enterprise]) == 1
    assert tenants.freeze([enterprise]) == 0
    assert tenants.unfreeze([enterprise]) == 1
    db_session.rollback()
