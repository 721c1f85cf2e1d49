"""Pushes: which devices a template reaches, and the bulk writing of a push.

A push does not carry the template's text: it asks each target device to download its own
provisioning file, which holds its effective configuration (app/configs/effective.py). Each
target gets a Download command WITHOUT a url (the ACS points it at the device's provisioning
file) and a row of the executed task linked to it, all written with INSERT ... SELECT, so
100,000 devices cost three statements, not 200,000 objects.

Who receives (one rule, ``receiving_enterprises``): an enterprise template reaches its
enterprise; a channel template reaches every device-management enterprise of the channel's
subtree. Either way only active enterprises that authorize their channels to manage them,
and none below a frozen channel. RPS enterprises, unauthorized ones and other trees never.
"""

import datetime
import json

from sqlalchemy import and_, func, insert, literal, select, update

from app.configs.outcomes import supersede
from app.configs.rules import _N, ConfigError
from app.configs.tables import ConfigPush, ConfigPushDevice, ConfigTemplate, PushStatus, RowStatus
from app.models import (
    Authorization,
    Channel,
    ChannelClosure,
    CommandStatus,
    Device,
    DeviceCommand,
    Enterprise,
    PermissionType,
    Status,
    utcnow,
)

FILE_TYPE = "3 Vendor Configuration File"
# Up to this many devices a push marks older rows "superseded" itself; above, the sweep does
# (updating 100,000 rows and their commands would cost more than the push).
SUPERSEDE_INLINE_MAX = 5000

NOT_MANAGED = _N("%(name)s has not authorized its channel to manage its devices: nothing was "
                 "pushed.")
FROZEN = _N("%(name)s is frozen: nothing was pushed.")
NOT_DM = _N("%(name)s is not a device-management enterprise: nothing was pushed.")
NOTHING_TO_RETRY = _N("No device of this task failed: nothing to retry.")
NOT_SCHEDULED = _N("Only a timer task that has not run yet can be cancelled.")
PAST = _N("Choose a time in the future.")


def _frozen_on_chain(session, channel_id):
    return session.execute(
        select(Channel.name).join(ChannelClosure, ChannelClosure.ancestor_id == Channel.id)
        .where(ChannelClosure.descendant_id == channel_id, Channel.status == Status.frozen)
        .limit(1)).scalar()


def check_target(session, channel_id=None, enterprise_id=None):
    """The target's name, or ConfigError saying why nothing may be pushed to it."""
    if enterprise_id is not None:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise.permission_type != PermissionType.device_management:
            raise ConfigError(NOT_DM, name=enterprise.name)
        if enterprise.status == Status.frozen:
            raise ConfigError(FROZEN, name=enterprise.name)
        frozen = _frozen_on_chain(session, enterprise.channel_id)
        if frozen:
            raise ConfigError(FROZEN, name=frozen)
        if enterprise.authorization != Authorization.accepted:
            raise ConfigError(NOT_MANAGED, name=enterprise.name)
        return enterprise.name
    channel = session.get(Channel, channel_id)
    frozen = _frozen_on_chain(session, channel.id)
    if frozen:
        raise ConfigError(FROZEN, name=frozen)
    return channel.name


def receiving_enterprises(channel_id=None, enterprise_id=None):
    """A SELECT of the enterprise ids whose devices a push to this target reaches."""
    cc = ChannelClosure
    query = select(Enterprise.id).where(
        Enterprise.permission_type == PermissionType.device_management,
        Enterprise.status == Status.active,
        Enterprise.authorization == Authorization.accepted)
    if enterprise_id is not None:
        return query.where(Enterprise.id == enterprise_id)
    subtree = select(cc.descendant_id).where(cc.ancestor_id == channel_id)
    frozen_ids = select(Channel.id).where(Channel.status == Status.frozen,
                                          Channel.id.in_(subtree))
    below_frozen = select(cc.descendant_id).where(cc.ancestor_id.in_(frozen_ids))
    return query.where(Enterprise.channel_id.in_(subtree),
                       Enterprise.channel_id.not_in(below_frozen))


def _target_devices(push, only_devices=None):
    """The condition on Device of this push's targets."""
    condition = Device.enterprise_id.in_(
        receiving_enterprises(None if push.enterprise_id else push.channel_id,
                              push.enterprise_id))
    if only_devices is not None:
        condition = and_(condition, Device.id.in_(only_devices))
    return condition


def new_push(template, *, by=None, acting_as=None, retry_of=None):
    """An executed task for the template (not yet added to the session)."""
    return ConfigPush(
        template_id=template.id, template_name=template.name,
        channel_id=template.channel_id or template.enterprise.channel_id,
        enterprise_id=template.enterprise_id,
        target_name=(template.channel or template.enterprise).name,
        created_by=by, acting_as=acting_as, retry_of=retry_of)


def push_now(session, push, only_devices=None, now=None):
    """Write the push: queue one Download per target device, one row per device linked to it,
    supersede older pending rows of the same devices (a big push: the sweep does), and flag
    the devices. Every statement is set-based (INSERT ... SELECT, UPDATE joined to the new
    rows). The caller commits (then wakes the online devices). Returns the number of
    devices."""
    now = now or utcnow()
    check_target(session, None if push.enterprise_id else push.channel_id, push.enterprise_id)
    push.status, push.pushed_on = PushStatus.pushed, now
    session.add(push)
    session.flush()

    arguments = json.dumps({"file_type": FILE_TYPE, "push": push.id})
    before = session.execute(select(func.max(DeviceCommand.id))).scalar() or 0
    dc, rows = DeviceCommand.__table__, ConfigPushDevice.__table__
    session.execute(insert(dc).from_select(
        ["device_id", "kind", "arguments", "status", "created_on", "created_by", "updated_on",
         "attempts"],
        select(Device.id, literal("download"), literal(arguments),
               literal(CommandStatus.queued.value), literal(now), literal(push.created_by),
               literal(now), literal(0)).where(_target_devices(push, only_devices))))
    # The new commands are found by id range and their unique arguments (the push's id).
    count = session.execute(insert(rows).from_select(
        ["push_id", "device_id", "enterprise_id", "command_id", "mac", "model", "status"],
        select(literal(push.id), dc.c.device_id, Device.enterprise_id, dc.c.id, Device.mac,
               Device.model, literal(RowStatus.pending.value))
        .select_from(dc.join(Device.__table__, Device.id == dc.c.device_id))
        .where(dc.c.id > before, dc.c.kind == "download", dc.c.arguments == arguments)
        # MariaDB would walk every device and probe its commands; the new commands are one
        # primary-key range: read it first (measured 1.5 s -> see README at 100,000 devices).
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
    )).rowcount
    if count <= SUPERSEDE_INLINE_MAX:
        supersede(session, push.id, now)
    else:  # the sweep marks the older rows in batches: the push itself stays fast
        push.supersede_pending = True
    session.execute(update(Device).where(
        Device.id == rows.c.device_id, rows.c.push_id == push.id, Device.has_work.is_(False))
        .values(has_work=True).execution_options(synchronize_session=False))
    push.devices = push.open_rows = count
    return count


def retry_failed(session, push, *, by=None, acting_as=None, now=None):
    """A new push of the failed devices of ``push`` (to the same target, re-checked now)."""
    failed = select(ConfigPushDevice.device_id).where(
        ConfigPushDevice.push_id == push.id, ConfigPushDevice.status == RowStatus.failed)
    if session.execute(failed.limit(1)).first() is None:
        raise ConfigError(NOTHING_TO_RETRY)
    again = ConfigPush(template_id=push.template_id, template_name=push.template_name,
                       channel_id=push.channel_id, enterprise_id=push.enterprise_id,
                       target_name=push.target_name, created_by=by, acting_as=acting_as,
                       retry_of=push.id)
    push_now(session, again, only_devices=failed, now=now)
    return again


def schedule(template, when_utc, time_zone, *, by=None, acting_as=None, now=None):
    """A timer task: pushed by the scheduler at ``when_utc`` (naive UTC)."""
    if when_utc <= (now or utcnow()):
        raise ConfigError(PAST)
    push = new_push(template, by=by, acting_as=acting_as)
    push.status, push.scheduled_for, push.time_zone = PushStatus.scheduled, when_utc, time_zone
    return push


def cancel(session, push):
    """Cancel a timer task before it runs (a conditional UPDATE: the scheduler claiming it at
    the same moment wins or loses cleanly)."""
    done = session.execute(update(ConfigPush).where(
        ConfigPush.id == push.id, ConfigPush.status == PushStatus.scheduled)
        .values(status=PushStatus.cancelled)
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise ConfigError(NOT_SCHEDULED)
    session.expire(push)


def run_due_pushes(session, now=None):
    """Push every timer task whose time has come, each exactly once: the task is claimed by a
    conditional UPDATE in the same transaction as its rows, so a second scheduler process (or
    a rerun) finds it claimed. Returns the ids pushed."""
    now = now or utcnow()
    due = session.execute(select(ConfigPush.id).where(
        ConfigPush.status == PushStatus.scheduled, ConfigPush.scheduled_for <= now)
        .order_by(ConfigPush.scheduled_for).limit(100)).scalars().all()
    pushed = []
    for push_id in due:
        claimed = session.execute(update(ConfigPush).where(
            ConfigPush.id == push_id, ConfigPush.status == PushStatus.scheduled)
            .values(status=PushStatus.pushed, pushed_on=now)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            session.rollback()
            continue
        push = session.get(ConfigPush, push_id)
        session.refresh(push)
        try:
            push_now(session, push, now=now)
        except ConfigError as error:
            push.status, push.note = PushStatus.refused, str(error)[:255]
        session.commit()
        if push.status == PushStatus.pushed:
            pushed.append(push_id)
    return pushed


def delete_template(session, template):
    """Delete a template: its executed tasks stay (names are snapshots); its timer tasks that
    have not run are cancelled."""
    session.execute(update(ConfigPush).where(
        ConfigPush.template_id == template.id, ConfigPush.status == PushStatus.scheduled)
        .values(status=PushStatus.cancelled).execution_options(synchronize_session=False))
    session.delete(template)


def template_of(session, template_id):
    return session.get(ConfigTemplate, template_id)


def expiry_cutoff(now, days):
    return now - datetime.timedelta(days=days)
