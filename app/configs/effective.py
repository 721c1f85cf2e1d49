"""A device's effective configuration: the ONE function the device page and the device's
provisioning file (app/device_ops/provisioning.py) both use.

Order: the channel templates from the top of the enterprise's channel chain down to the
enterprise's own channel, then the enterprise's templates; within one owner, oldest first.
Later wins key by key (rules.merge_templates). Channel templates reach only an enterprise that
authorizes its channels to manage it: an unauthorized enterprise gets its own templates only.
"""

import functools
from dataclasses import dataclass

from sqlalchemy import or_, select

from app.configs import rules
from app.configs.tables import ConfigTemplate
from app.models import (
    Authorization,
    Channel,
    ChannelClosure,
    Enterprise,
    PermissionType,
)


@dataclass(frozen=True)
class _Parsed:
    id: int
    name: str
    model_filter: str
    settings: tuple


@functools.lru_cache(maxsize=512)
def _settings_of(body):
    # Keyed by the text itself: an edited template is a new key, a stale entry just ages out.
    return tuple(rules.parse_template(body)[0])


def chain_of(session, channel_id):
    """The channel ids from the top of the tree down to ``channel_id``."""
    return session.execute(
        select(ChannelClosure.ancestor_id).where(ChannelClosure.descendant_id == channel_id)
        .order_by(ChannelClosure.depth.desc())).scalars().all()


def templates_for(session, enterprise):
    """The templates that may apply to the enterprise's devices, in merge order."""
    if enterprise.permission_type != PermissionType.device_management:
        return []
    chain = []
    if enterprise.authorization == Authorization.accepted:
        chain = chain_of(session, enterprise.channel_id)
    owner = ConfigTemplate.enterprise_id == enterprise.id
    if chain:
        owner = or_(owner, ConfigTemplate.channel_id.in_(chain))
    rows = session.execute(
        select(ConfigTemplate.id, ConfigTemplate.name, ConfigTemplate.model_filter,
               ConfigTemplate.body, ConfigTemplate.channel_id).where(owner)).all()
    rank = {channel_id: place for place, channel_id in enumerate(chain)}
    last = len(chain)
    rows.sort(key=lambda r: (rank.get(r.channel_id, last) if r.channel_id else last, r.id))
    return [_Parsed(r.id, r.name, r.model_filter, _settings_of(r.body)) for r in rows]


def effective_configuration(session, device):
    """[rules.EffectiveSetting] of the device, each naming the template that set it."""
    if device.enterprise_id is None:
        return []
    enterprise = session.get(Enterprise, device.enterprise_id)
    if enterprise is None:
        return []
    templates = templates_for(session, enterprise)
    if not templates:
        return []
    channel = session.get(Channel, enterprise.channel_id)
    variables = rules.device_variables(device, enterprise, channel)
    return rules.merge_templates(templates, variables, device.model)


def template_settings(session, device):
    """The (key, value) pairs the provisioning file appends after the ACS's enrollment
    block."""
    return [(s.key, s.value) for s in effective_configuration(session, device)]
