"""What the configuration screens show, narrowed through app/core/scope.py.

- Channel templates: a channel master account manages its own channel's; a sub-account those
  of the channels granted to it; the platform administrator any.
- Enterprise templates: those of the device-management enterprises the principal sees.
- Executed tasks: a channel sees the pushes into its subtree; an enterprise the pushes that
  reached its devices (and of those, only its own devices' rows).
"""

import datetime
from dataclasses import dataclass

from sqlalchemy import exists, false, func, or_, select

from app.configs.outcomes import outcome_of
from app.configs.tables import (
    ConfigChannelZone,
    ConfigPush,
    ConfigPushDevice,
    ConfigTemplate,
    PushStatus,
    RowStatus,
)
from app.core import scope
from app.models import (
    AccountGrant,
    AccountKind,
    Channel,
    ChannelClosure,
    CommandStatus,
    DeviceCommand,
    Enterprise,
    PermissionType,
)

PAGE_SIZE = 50


def template_channel_ids(principal):
    """A SELECT of the channels whose channel templates the principal manages; None: all."""
    if principal.is_admin:
        return None
    if principal.kind == AccountKind.channel_master:
        return select(Channel.id).where(Channel.id == principal.channel_id)
    if principal.kind == AccountKind.channel_sub:
        return select(AccountGrant.channel_id).where(
            AccountGrant.account_id == principal.account_id,
            AccountGrant.channel_id.is_not(None))
    return select(Channel.id).where(false())


def template_enterprise_ids(principal):
    """A SELECT of the device-management enterprises whose templates the principal manages."""
    query = select(Enterprise.id).where(
        Enterprise.permission_type == PermissionType.device_management)
    if principal.is_admin:
        return query
    if not principal.is_channel:
        return query.where(false())
    return scope.visible_enterprises(query, principal)


def visible_templates(query, principal, kind):
    """Narrow a query over ConfigTemplate to the principal's templates of ``kind``."""
    if kind == "channel":
        ids = template_channel_ids(principal)
        query = query.where(ConfigTemplate.channel_id.is_not(None))
        return query if ids is None else query.where(ConfigTemplate.channel_id.in_(ids))
    return query.where(ConfigTemplate.enterprise_id.in_(template_enterprise_ids(principal)))


def template_or_none(session, principal, kind, pk):
    pk = scope.parse_pk(pk)
    if pk is None:
        return None
    return session.execute(visible_templates(
        select(ConfigTemplate).where(ConfigTemplate.id == pk), principal, kind)).scalar()


def target_channel_or_none(session, principal, pk):
    pk = scope.parse_pk(pk)
    if pk is None:
        return None
    ids = template_channel_ids(principal)
    query = select(Channel).where(Channel.id == pk)
    return session.execute(query if ids is None else query.where(Channel.id.in_(ids))).scalar()


def target_enterprise_or_none(session, principal, pk):
    pk = scope.parse_pk(pk)
    if pk is None:
        return None
    return session.execute(select(Enterprise).where(
        Enterprise.id == pk, Enterprise.id.in_(template_enterprise_ids(principal)))).scalar()


def template_list(session, principal, kind, q="", page=1):
    """(rows, has_next): the principal's templates of ``kind`` with their target's name."""
    target = Channel if kind == "channel" else Enterprise
    column = ConfigTemplate.channel_id if kind == "channel" else ConfigTemplate.enterprise_id
    query = visible_templates(
        select(ConfigTemplate.id, ConfigTemplate.name, ConfigTemplate.model_filter,
               ConfigTemplate.updated_on, ConfigTemplate.updated_by,
               target.name.label("target_name"), target.id.label("target_id"))
        .join(target, target.id == column), principal, kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(ConfigTemplate.name.like(pattern, escape="\\"),
                                target.name.like(pattern, escape="\\")))
    rows = session.execute(query.order_by(ConfigTemplate.id.desc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def channel_time_zone(session, channel_id):
    """The time zone of the channel, or of its nearest ancestor that has one; None if none."""
    if channel_id is None:
        return None
    return session.execute(
        select(ConfigChannelZone.time_zone)
        .join(ChannelClosure, ChannelClosure.ancestor_id == ConfigChannelZone.channel_id)
        .where(ChannelClosure.descendant_id == channel_id)
        .order_by(ChannelClosure.depth).limit(1)).scalar()


def set_channel_time_zone(session, channel_id, zone):
    row = session.get(ConfigChannelZone, channel_id)
    if row is None:
        session.add(ConfigChannelZone(channel_id=channel_id, time_zone=zone))
    else:
        row.time_zone = zone


# --- executed tasks --------------------------------------------------------------------------


def _own_rows(principal):
    """The enterprise whose rows alone an enterprise principal sees, else None."""
    return principal.enterprise_id if principal.kind == AccountKind.enterprise else None


def visible_pushes(query, principal):
    if principal.is_admin:
        return query
    if principal.kind == AccountKind.enterprise:
        mine = exists().where(ConfigPushDevice.push_id == ConfigPush.id,
                              ConfigPushDevice.enterprise_id == principal.enterprise_id)
        return query.where(or_(ConfigPush.enterprise_id == principal.enterprise_id, mine))
    if principal.is_channel:
        conditions = [ConfigPush.channel_id.in_(scope.channel_ids(principal))]
        if principal.kind == AccountKind.channel_sub:
            conditions.append(ConfigPush.enterprise_id.in_(scope.enterprise_ids(principal)))
        return query.where(or_(*conditions))
    return query.where(false())


def push_or_none(session, principal, pk):
    pk = scope.parse_pk(pk)
    if pk is None:
        return None
    return session.execute(visible_pushes(select(ConfigPush).where(ConfigPush.id == pk),
                                          principal)).scalar()


TASK_STATUSES = ("scheduled", "running", "finished", "cancelled", "refused", "with_failures")


def push_list(session, principal, *, q="", status="", since=None, until=None, page=1,
              newest_first=True):
    query = visible_pushes(select(ConfigPush), principal)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(ConfigPush.template_name.like(pattern, escape="\\"),
                                ConfigPush.target_name.like(pattern, escape="\\")))
    if status == "scheduled":
        query = query.where(ConfigPush.status == PushStatus.scheduled)
    elif status in ("cancelled", "refused"):
        query = query.where(ConfigPush.status == PushStatus(status))
    elif status == "running":
        query = query.where(ConfigPush.status == PushStatus.pushed, ConfigPush.open_rows > 0)
    elif status == "finished":
        query = query.where(ConfigPush.status == PushStatus.pushed, ConfigPush.open_rows == 0)
    elif status == "with_failures":
        query = query.where(ConfigPush.failed > 0)
    if since:
        query = query.where(ConfigPush.created_on >= since)
    if until:
        query = query.where(ConfigPush.created_on < until + datetime.timedelta(days=1))
    order = ConfigPush.created_on.desc() if newest_first else ConfigPush.created_on.asc()
    rows = session.execute(query.order_by(order, ConfigPush.id.desc() if newest_first
                                          else ConfigPush.id.asc())
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).scalars().all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


@dataclass(frozen=True)
class RowView:
    """A device row as shown: a pending row whose command has finished shows its outcome
    already (the sweep writes it into the row and the task's counters)."""

    mac: str | None
    model: str
    status: RowStatus
    fault_code: int | None
    fault_string: str | None
    finished_on: datetime.datetime | None


def _with_live_outcomes(session, found):
    pending = [r.command_id for r in found if r.status == RowStatus.pending and r.command_id]
    commands = {c.id: c for c in session.execute(
        select(DeviceCommand.id, DeviceCommand.status, DeviceCommand.fault_code,
               DeviceCommand.fault_string, DeviceCommand.finished_on)
        .where(DeviceCommand.id.in_(pending))).all()} if pending else {}
    shown = []
    for row in found:
        status, code, text, when = (row.status, row.fault_code, row.fault_string,
                                    row.finished_on)
        command = commands.get(row.command_id) if row.status == RowStatus.pending else None
        outcome = command and outcome_of(CommandStatus(command.status), command.fault_code,
                                         command.fault_string)
        if outcome:
            (status, code, text), when = outcome, command.finished_on
        shown.append(RowView(row.mac, row.model, RowStatus(status), code, text, when))
    return shown


def push_rows(session, principal, push, *, status="", page=1):
    """(rows, total) of one task's device rows for the principal: ids first through the
    (push_id, id) or (push_id, status, id) index, then those rows (a deep page stays
    cheap)."""
    rows = ConfigPushDevice
    condition = [rows.push_id == push.id]
    if status in RowStatus.__members__:
        condition.append(rows.status == RowStatus(status))
    own = _own_rows(principal)
    if own is not None:
        condition.append(rows.enterprise_id == own)
    ids = session.execute(select(rows.id).where(*condition).order_by(rows.id)
                          .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars().all()
    found = session.execute(select(rows).where(rows.id.in_(ids)).order_by(rows.id)
                            ).scalars().all() if ids else []
    found = _with_live_outcomes(session, found)
    if own is None:
        counts = {"": push.devices, "pending": push.open_rows, "success": push.succeeded,
                  "failed": push.failed, "expired": push.expired,
                  "superseded": push.superseded}
        total = counts.get(status, push.devices)
    else:
        total = session.execute(select(func.count()).select_from(rows).where(*condition)
                                ).scalar()
    return found, total
