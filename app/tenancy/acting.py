"""Acting as another tenant: a channel "logs into" an enterprise's or a sub-channel's portal.

The real person stays signed in as themself; for the requests that follow, scope and
permissions are those of the tenant entered, and the operation log records both. Whether
the person may still be there is checked again on every request: a revoked authorization or
a freeze ends the visit at once.
"""

from dataclasses import dataclass

from app.accounts import roles
from app.accounts.rules import _N
from app.core import scope
from app.models import (
    AccountKind,
    Authorization,
    Channel,
    Enterprise,
    PermissionType,
    Status,
)


class ActAsRefused(ValueError):
    def __init__(self, template, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


@dataclass(frozen=True)
class Acting:
    kind: str  # "enterprise" or "channel"
    target_id: int
    name: str
    role_name: str
    principal: scope.Principal
    actor_username: str

    def to_session(self):
        return {"kind": self.kind, "id": self.target_id}


def enter_enterprise(session, actor_principal, actor_username, enterprise_id):
    """Acting as the enterprise, or OutOfScope (404) / ActAsRefused (a message)."""
    if not (actor_principal.is_channel or actor_principal.is_admin):
        raise scope.OutOfScope("only channels enter enterprises")
    enterprise = scope.get_or_raise(session, Enterprise, enterprise_id, actor_principal)
    if enterprise.status == Status.frozen:
        raise ActAsRefused(_N("%(name)s is frozen and cannot be entered."),
                           name=enterprise.name)
    rps = enterprise.permission_type == PermissionType.rps
    if not rps and enterprise.authorization != Authorization.accepted:
        raise ActAsRefused(_N("%(name)s has not authorized your channel to manage it."),
                           name=enterprise.name)
    return Acting(
        kind="enterprise", target_id=enterprise.id, name=enterprise.name,
        role_name=roles.RPS_ENTERPRISE_ADMIN if rps else roles.ENTERPRISE_ADMIN,
        principal=scope.Principal(actor_principal.account_id, AccountKind.enterprise,
                                  enterprise_id=enterprise.id),
        actor_username=actor_username)


def enter_channel(session, actor_principal, actor_username, channel_id):
    """Acting as a sub-channel (strictly below the actor's own channel)."""
    if not (actor_principal.is_channel or actor_principal.is_admin):
        raise scope.OutOfScope("only channels enter sub-channels")
    channel = scope.get_or_raise(session, Channel, channel_id, actor_principal,
                                 narrower=scope.manageable_channels)
    if channel.status == Status.frozen:
        raise ActAsRefused(_N("%(name)s is frozen and cannot be entered."), name=channel.name)
    return Acting(
        kind="channel", target_id=channel.id, name=channel.name, role_name=roles.CHANNEL_ADMIN,
        principal=scope.Principal(actor_principal.account_id, AccountKind.channel_master,
                                  channel_id=channel.id),
        actor_username=actor_username)


def resume(session, actor_principal, actor_username, stored):
    """The visit kept in the session, checked again as if entered now."""
    kind, target_id = (stored or {}).get("kind"), (stored or {}).get("id")
    if kind == "enterprise":
        return enter_enterprise(session, actor_principal, actor_username, target_id)
    if kind == "channel":
        return enter_channel(session, actor_principal, actor_username, target_id)
    raise scope.OutOfScope(f"unknown visit {stored!r}")
