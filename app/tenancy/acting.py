"""Acting as another tenant: a channel "logs into" an enterprise's or a sub-channel's portal.

The real person stays signed in as themself; for the requests that follow, scope and
permissions are those of the tenant entered, and the operation log records both. Whether
the person may still be there is checked again on every request: a revoked authorization or
a freeze ends the visit at once.
"""

from dataclasses import dataclass, replace

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
    # The visits this one was entered from, outermost first: ((kind, id, name), ...).
    via: tuple = ()

    def to_session(self):
        return {"kind": self.kind, "id": self.target_id,
                "via": [[kind, pk] for kind, pk, _name in self.via]}

    @property
    def path(self):
        """The names from the first tenant entered down to this one."""
        return [name for _kind, _pk, name in self.via] + [self.name]


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


_ENTER = {"enterprise": enter_enterprise, "channel": enter_channel}


def enter_further(session, visit, kind, target_id):
    """From inside a sub-channel, entering one of its own enterprises or sub-channels: the
    target is checked against the visited channel's scope (not the person's, which is wider),
    and the new visit remembers the way down."""
    if kind not in _ENTER:
        raise scope.OutOfScope(f"unknown visit kind {kind!r}")
    deeper = _ENTER[kind](session, visit.principal, visit.actor_username, target_id)
    return replace(deeper, via=(*visit.via, (visit.kind, visit.target_id, visit.name)))


def resume(session, actor_principal, actor_username, stored):
    """The visit kept in the session, checked again step by step as if entered now: a step
    frozen or moved out of scope on the way ends the whole visit."""
    stored = stored if isinstance(stored, dict) else {}
    via = stored.get("via") or []
    steps = [*via, [stored.get("kind"), stored.get("id")]]
    if not all(isinstance(step, (list, tuple)) and len(step) == 2 for step in steps):
        raise scope.OutOfScope(f"unknown visit {stored!r}")
    (kind, target_id), rest = steps[0], steps[1:]
    if kind not in _ENTER:
        raise scope.OutOfScope(f"unknown visit {stored!r}")
    visit = _ENTER[kind](session, actor_principal, actor_username, target_id)
    for kind, target_id in rest:
        visit = enter_further(session, visit, kind, target_id)
    return visit
