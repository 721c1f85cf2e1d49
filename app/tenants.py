"""Rules about channels and enterprises. No Flask request objects here."""

from .models import Channel, Enterprise, PermissionType, Status
from .scope import Principal


class TenantError(ValueError):
    """A tenant rule refused the change; the message is shown to the user."""


def check_may_add_subchannel(principal: Principal, parent: Channel):
    """The platform administrator adds channels anywhere; a channel adds sub-channels only
    under a channel whose parent allowed it to."""
    if principal.is_admin:
        return
    if parent is None:
        raise TenantError("Only the platform administrator adds top-level channels.")
    if not parent.can_add_subchannel:
        raise TenantError(f"Channel {parent.name} may not add sub-channels.")


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
