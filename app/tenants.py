"""Rules about channels and enterprises. No Flask request objects here."""

from .accounts import _N
from .models import AccountKind, Authorization, Channel, Enterprise, PermissionType, Status, utcnow
from .scope import Principal


class TenantError(ValueError):
    """A tenant rule refused the change. ``str()`` is the message for the user, translated
    when there is a request (FAB flashes ``str(error)`` of what pre_add/pre_delete raise)."""

    def __init__(self, template, **params):
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self):
        from flask import has_request_context

        if has_request_context():
            from flask_babel import gettext

            return gettext(self.template, **self.params)
        return self.template % self.params if self.params else self.template


def check_may_add_subchannel(principal: Principal, parent: Channel):
    """The platform administrator adds channels anywhere; a channel adds sub-channels only
    under a channel whose parent allowed it to."""
    if principal.is_admin:
        return
    if parent is None:
        raise TenantError(_N("Only the platform administrator adds top-level channels."))
    if not parent.can_add_subchannel:
        raise TenantError(_N("Channel %(name)s may not add sub-channels."), name=parent.name)


def create_channel(session, name, parent=None, **fields):
    """A channel plus the same-name enterprise the system generates for it; the closure rows
    are written by the Channel insert hook in the same transaction. The caller commits."""
    channel = Channel(name=name, parent=parent, **fields)
    channel_own_enterprise(channel)
    session.add(channel)
    return channel


def channel_own_enterprise(channel):
    """The enterprise every channel gets under its own name, attached to the channel so
    both are saved together."""
    return Enterprise(
        name=channel.name,
        channel=channel,
        permission_type=PermissionType.device_management,
        has_master_admin=False,
        country=channel.country,
        contact=channel.contact,
        is_channel_own=True,
    )


def freeze(items):
    """Freeze channels or enterprises; returns how many changed (freezing twice is a no-op)."""
    return _set_status(items, Status.frozen)


def unfreeze(items):
    return _set_status(items, Status.active)


def _set_status(items, status):
    changed = 0
    for item in items:
        if item.status != status:
            item.status = status
            changed += 1
    return changed


def check_channel_deletable(session, channel):
    """A channel goes only when nothing hangs below it but its generated enterprise and its
    master account (which go with it); sub-accounts must be removed first."""
    if session.query(Channel.id).filter(Channel.parent_id == channel.id).first():
        raise TenantError(_N("%(name)s has sub-channels: remove them first."),
                          name=channel.name)
    others = session.query(Enterprise).filter(Enterprise.channel_id == channel.id,
                                              Enterprise.is_channel_own.is_(False))
    if others.first():
        raise TenantError(_N("%(name)s still has enterprises; freeze it instead."),
                          name=channel.name)
    if _accounts(session, channel_id=channel.id, kind=AccountKind.channel_sub):
        raise TenantError(_N("%(name)s still has accounts; freeze it instead."),
                          name=channel.name)
    for own in session.query(Enterprise).filter(Enterprise.channel_id == channel.id):
        check_enterprise_deletable(session, own, allow_channel_own=True)


def delete_channel_leftovers(session, channel):
    """What goes with a deleted channel: its generated enterprise and its master account."""
    for own in session.query(Enterprise).filter(Enterprise.channel_id == channel.id,
                                                Enterprise.is_channel_own.is_(True)):
        session.delete(own)
    for account in _accounts(session, channel_id=channel.id,
                             kind=AccountKind.channel_master):
        session.delete(account)


def delete_enterprise_accounts(session, enterprise):
    """An enterprise's administrator accounts go with the (empty) enterprise."""
    for account in _accounts(session, enterprise_id=enterprise.id):
        session.delete(account)


def check_enterprise_deletable(session, enterprise, allow_channel_own=False):
    from .models import Device, RpsDevice

    if enterprise.is_channel_own and not allow_channel_own:
        raise TenantError(_N("%(name)s belongs to its channel and goes with it."),
                          name=enterprise.name)
    if session.query(Device.id).filter(Device.enterprise_id == enterprise.id).first():
        raise TenantError(_N("%(name)s still has devices; freeze it instead."),
                          name=enterprise.name)
    if session.query(RpsDevice.id).filter(RpsDevice.enterprise_id == enterprise.id).first():
        raise TenantError(_N("%(name)s still has RPS devices; freeze it instead."),
                          name=enterprise.name)


def _accounts(session, **by):
    from .models import Account

    return session.query(Account).filter_by(**by).all()


# --- the enterprise's authorization of its channel ---------------------------------------------

def needs_authorization_answer(enterprise) -> bool:
    """The first-login prompt: device-management enterprises with their own administrator
    are asked (RPS enterprises' devices need no authorization)."""
    return (enterprise.permission_type == PermissionType.device_management
            and enterprise.has_master_admin and enterprise.authorization_answered_on is None)


def grant_authorization(enterprise, now=None):
    """The enterprise lets its channel manage its devices (and enter its portal)."""
    _answer(enterprise, Authorization.accepted, now)


def revoke_authorization(enterprise, now=None):
    """The channel loses sight of the enterprise's devices at its next request."""
    _answer(enterprise, Authorization.rejected, now)


def _answer(enterprise, state, now):
    enterprise.authorization = state
    enterprise.authorization_answered_on = now or utcnow()
