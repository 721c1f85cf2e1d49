"""Rules about channels and enterprises. No Flask request objects here."""

from app.accounts.rules import _N
from app.core.scope import Principal
from app.models import (
    AccountKind,
    Authorization,
    Channel,
    Enterprise,
    PermissionType,
    Status,
    utcnow,
)


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
    """Freeze channels or enterprises; returns how many changed (freezing twice is a no-op).
    Their accounts' sessions end with it: a cookie kept aside must not work again after an
    unfreeze."""
    changed = _set_status(items, Status.frozen)
    _end_sessions_of(items)
    return changed


def _end_sessions_of(items):
    from sqlalchemy import or_, select
    from sqlalchemy.orm import object_session

    from app.accounts.sessions import end_sessions
    from app.models import Account

    session = object_session(items[0]) if items else None
    if session is None:
        return
    channels = [i.id for i in items if isinstance(i, Channel)]
    enterprises = [i.id for i in items if isinstance(i, Enterprise)]
    end_sessions(session, session.execute(select(Account.id).where(or_(
        Account.channel_id.in_(channels), Account.enterprise_id.in_(enterprises)))).scalars())


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
        _delete_account(session, account)


def delete_enterprise_accounts(session, enterprise):
    """An enterprise's administrator accounts go with the (empty) enterprise."""
    for account in _accounts(session, enterprise_id=enterprise.id):
        _delete_account(session, account)


def _delete_account(session, account):
    from app.accounts.sessions import end_sessions

    # Its sessions go too: an id a later account may reuse must not find one signed in.
    end_sessions(session, [account.id])
    session.delete(account)


def check_enterprise_deletable(session, enterprise, allow_channel_own=False):
    from app.models import Device, RpsDevice

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
    from app.models import Account

    return session.query(Account).filter_by(**by).all()


# --- the enterprise's authorization of its channel ---------------------------------------------

def needs_authorization_answer(enterprise) -> bool:
    """The first-login prompt: device-management enterprises with their own administrator
    are asked (RPS enterprises' devices need no authorization)."""
    return (enterprise.permission_type == PermissionType.device_management
            and enterprise.has_master_admin and enterprise.authorization_answered_on is None)


NOT_YOURS_TO_ANSWER = _N("Only the enterprise's own administrator, signed in with a password "
                         "of its own, may answer the channel's authorization.")


def answer_authorization(enterprise, account, accept, visiting, now=None):
    """The enterprise's answer, valid only from a session its own administrator opened with a
    password of its own: not a channel visiting it ("go to the platform"), not another
    account, not a password someone else set (a channel's reset) and it has not replaced."""
    if (visiting or account is None or account.kind != AccountKind.enterprise
            or account.enterprise_id != enterprise.id or account.must_change_password):
        raise TenantError(NOT_YOURS_TO_ANSWER)
    (grant_authorization if accept else revoke_authorization)(enterprise, now)


def grant_authorization(enterprise, now=None):
    """The enterprise lets its channel manage its devices (and enter its portal)."""
    _answer(enterprise, Authorization.accepted, now)


def revoke_authorization(enterprise, now=None):
    """The channel loses sight of the enterprise's devices at its next request."""
    _answer(enterprise, Authorization.rejected, now)


def _answer(enterprise, state, now):
    enterprise.authorization = state
    enterprise.authorization_answered_on = now or utcnow()
