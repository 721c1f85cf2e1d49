"""The standard tenant tree every test builds on (one helper, as STYLE.md asks).

    A ─ B ─ C ─ E   (device management, authorization accepted)
            │   ├ ER  (device management, authorization rejected)
            │   └ R   (RPS, authorization pending)
        └ EB (under B, accepted)
    S ─ SE          (a sibling tree)

Each channel also owns its generated same-name enterprise. Every enterprise has two devices.
Accounts: master accounts of A, B, C and S; ``sub`` is A's sub-account granted B's subtree;
``ent`` is E's admin, ``rps`` is R's admin. Names are prefixed so a test can build its own
fresh tree when it changes things.
"""

from types import SimpleNamespace

from flask import current_app

from app.accounts import roles
from app.models import (
    AccountGrant,
    AccountKind,
    Authorization,
    Device,
    Enterprise,
    PermissionType,
    utcnow,
)
from app.tenancy import rules as tenants

PASSWORD = "Test-pass-2026"
_mac_counter = [0]


def _next_mac():
    _mac_counter[0] += 1
    return f"02aa{_mac_counter[0]:08x}"


def build_tree(session, prefix="t"):
    t = SimpleNamespace(prefix=prefix, password=PASSWORD)
    t.A = tenants.create_channel(session, f"{prefix}-A", can_add_subchannel=True)
    t.B = tenants.create_channel(session, f"{prefix}-B", parent=t.A, can_add_subchannel=True)
    t.C = tenants.create_channel(session, f"{prefix}-C", parent=t.B)
    t.S = tenants.create_channel(session, f"{prefix}-S", can_add_subchannel=True)
    session.flush()

    def enterprise(name, channel, permission=PermissionType.device_management,
                   authorization=Authorization.accepted):
        # Its admin has answered the first-login authorization prompt already.
        e = Enterprise(name=f"{prefix}-{name}", channel=channel, permission_type=permission,
                       authorization=authorization, email=f"{name.lower()}@{prefix}.test",
                       authorization_answered_on=utcnow())
        session.add(e)
        session.flush()
        for _ in range(2):
            session.add(Device(mac=_next_mac(), model="SIP-T54W", enterprise=e))
        return e

    t.E = enterprise("E", t.C)
    t.ER = enterprise("ER", t.C, authorization=Authorization.rejected)
    t.R = enterprise("R", t.C, PermissionType.rps, Authorization.pending)
    t.EB = enterprise("EB", t.B)
    t.SE = enterprise("SE", t.S)
    session.flush()

    sm = current_app.appbuilder.sm

    def account(key, role, kind, channel=None, enterprise=None):
        email = f"{key}@{prefix}.test"
        user = sm.add_user(username=email, first_name=key, last_name=prefix, email=email,
                           role=sm.find_role(role), password=PASSWORD)
        assert user, f"could not create {email}"
        user.kind = kind
        user.channel = channel
        user.enterprise = enterprise
        return user

    t.admin = account("admin", roles.ADMIN, AccountKind.platform)
    t.a = account("a", roles.CHANNEL_ADMIN, AccountKind.channel_master, t.A)
    t.b = account("b", roles.CHANNEL_ADMIN, AccountKind.channel_master, t.B)
    t.c = account("c", roles.CHANNEL_ADMIN, AccountKind.channel_master, t.C)
    t.s = account("s", roles.CHANNEL_ADMIN, AccountKind.channel_master, t.S)
    t.sub = account("sub", roles.CHANNEL_ADMIN, AccountKind.channel_sub, t.A)
    session.add(AccountGrant(account_id=t.sub.id, channel_id=t.B.id))
    t.ent = account("ent", roles.ENTERPRISE_ADMIN, AccountKind.enterprise, enterprise=t.E)
    t.rps = account("rps", roles.RPS_ENTERPRISE_ADMIN, AccountKind.enterprise, enterprise=t.R)
    session.commit()
    return t
