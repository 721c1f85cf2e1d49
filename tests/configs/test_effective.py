"""The effective configuration: merge order down the channel chain, the enterprise last, the
model filter, and the provisioning file that serves exactly it after the ACS block."""

import base64

from sqlalchemy import select

from app.configs.effective import effective_configuration
from app.device_ops import auth
from app.models import Authorization, Device, Enterprise

from .support import add_template


def devices_of(session, enterprise_id):
    return session.execute(select(Device).where(Device.enterprise_id == enterprise_id)
                           .order_by(Device.id)).scalars().all()


def test_channels_top_down_then_the_enterprise_later_wins(db_session, fresh_tree):
    t = fresh_tree
    add_template(db_session, "A-all", "x.a = A\nx.b = A\nx.c = A\nx.d = {{enterprise}}\n",
                 channel_id=t.A)
    add_template(db_session, "C-all", "x.b = C\nx.c = C\n", channel_id=t.C)
    add_template(db_session, "B-t46", "x.c = B46\n", channel_id=t.B, models="SIP-T46U")
    add_template(db_session, "E-own", "x.c = E\nx.e = {{mac}}\n", enterprise_id=t.E)
    add_template(db_session, "S-other", "x.a = S\n", channel_id=t.S)
    device = devices_of(db_session, t.E)[0]
    got = {s.key: (s.value, s.template_name) for s in effective_configuration(db_session, device)}
    assert got == {"x.a": ("A", "A-all"), "x.b": ("C", "C-all"), "x.c": ("E", "E-own"),
                   "x.d": (f"{t.prefix}-E", "A-all"), "x.e": (device.mac, "E-own")}
    # the T46U-only template applies to a T46U, below C's template in the chain order
    device.model = "SIP-T46U"
    db_session.commit()
    got = {s.key: s.template_name for s in effective_configuration(db_session, device)}
    assert got["x.c"] == "E-own"  # the enterprise still wins
    add_template(db_session, "C-over", "x.q = C\n", channel_id=t.C)
    add_template(db_session, "B-q", "x.q = B\n", channel_id=t.B, models="sip-t46u")
    got = {s.key: s.template_name for s in effective_configuration(db_session, device)}
    assert got["x.q"] == "C-over"  # C is below B: later in the chain, so it wins


def test_an_unauthorized_enterprise_gets_only_its_own_templates(db_session, fresh_tree):
    t = fresh_tree
    add_template(db_session, "A-all", "x.a = A\n", channel_id=t.A)
    add_template(db_session, "ER-own", "x.b = ER\n", enterprise_id=t.ER)
    device = devices_of(db_session, t.ER)[0]
    assert [s.key for s in effective_configuration(db_session, device)] == ["x.b"]
    db_session.get(Enterprise, t.ER).authorization = Authorization.accepted
    db_session.commit()
    assert [s.key for s in effective_configuration(db_session, device)] == ["x.a", "x.b"]


def test_the_provisioning_file_serves_the_merge_after_the_acs_block(app, db_session, fresh_tree):
    t = fresh_tree
    add_template(db_session, "A-all", "account.1.label = {{mac}}\nx.a = A\n", channel_id=t.A)
    add_template(db_session, "E-own", "x.a = E\n", enterprise_id=t.E)
    enterprise = db_session.get(Enterprise, t.E)
    password = auth.ensure_acs_password(db_session, enterprise)
    db_session.commit()
    device = devices_of(db_session, t.E)[0]
    token = base64.b64encode(f"{enterprise.acs_username}:{password}".encode()).decode()
    response = app.test_client().get(f"/provisioning/{device.mac}.cfg",
                                     headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "#!version:1.0.0.1"
    keys = [line.split(" = ")[0] for line in lines[1:]]
    first_template = keys.index("account.1.label")
    assert all(k.startswith("static.managementserver.") for k in keys[:first_template])
    assert lines[1 + first_template:] == [f"account.1.label = {device.mac}", "x.a = E"]
