"""The alarm rules, without HTTP: raising an alarm (with dedup), the enterprise's strategy,
acknowledging and clearing, and the receivers a principal may pick.

Dedup: an open alarm's ``open_key`` ("<device>:<type>") is unique, so a repeat is one
INSERT ... ON CONFLICT DO UPDATE (SQLite) / ON DUPLICATE KEY UPDATE (MariaDB) that lands on
the open row: two ACS workers receiving the same alarm at once cannot both insert it, and
nothing reads before it writes.
"""

import functools
import json
import random
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import OperationalError

from app.alarms import notify
from app.alarms.queries import visible_alarms
from app.alarms.types import CODES, SEVERITIES
from app.core import scope
from app.models import (
    Account,
    AccountGrant,
    AccountKind,
    Alarm,
    AlarmDaily,
    AlarmReceiver,
    AlarmSetting,
    AlarmStatus,
    AlarmType,
    ChannelClosure,
    CommandStatus,
    Device,
    DeviceCommand,
    Enterprise,
    Severity,
    utcnow,
)
from app.tenancy.rules import TenantError

LOG_FILE_TYPE = "2 Vendor Log File"
MAX_DESCRIPTION = 512
STRATEGY_SECONDS = 5  # a changed strategy reaches every ACS worker within this
_DEADLOCK_RETRIES = 5
DEVICE, SYSTEM = "device", "system"  # who cleared an alarm when no person did


def _N(message):
    return message


class AlarmError(TenantError):
    """A refused alarm change; the message is for the user."""


UNKNOWN_TYPE = _N("Unknown alarm type: %(code)s")
NOTHING_CHOSEN = _N("Select at least one alarm.")
BAD_SEVERITY = _N("Unknown severity: %(value)s")


@dataclass(frozen=True)
class TypeInfo:
    id: int
    code: str
    severity: str
    uploads_log: bool
    name_en: str
    name_zh: str

    def name(self, language):
        return self.name_zh if (language or "").startswith("zh") else self.name_en


@dataclass(frozen=True)
class Strategy:
    enabled: bool = True
    severities: frozenset = frozenset(SEVERITIES)
    codes: frozenset | None = None  # None: every type
    email: bool = False

    def allows(self, info):
        return self.enabled and info.severity in self.severities and (
            self.codes is None or info.code in self.codes)


@dataclass(frozen=True)
class Raised:
    alarm_id: int
    new: bool
    device_id: int = None
    enterprise_id: int = None
    code: str = ""
    description: str = ""
    now: object = None


_types_cache = {}  # database URL -> {code: TypeInfo}
_strategy_cache = {}  # (database URL, enterprise id) -> (until, Strategy)


def _engine(session):
    """The engine of an ORM session or of a Core connection (the ACS's autocommit one)."""
    return session.get_bind() if hasattr(session, "get_bind") else session.engine


def _url(session):
    return str(_engine(session).url)


def alarm_types(session):
    """{code: TypeInfo}: the seeded types, read once per process and database."""
    key = _url(session)
    types = _types_cache.get(key)
    if types is None:
        t = AlarmType
        rows = session.execute(select(t.id, t.code, t.severity, t.uploads_log, t.name_en,
                                      t.name_zh).order_by(t.position))
        types = {r.code: TypeInfo(r.id, r.code, getattr(r.severity, "value", r.severity),
                                  r.uploads_log, r.name_en, r.name_zh) for r in rows}
        if types:
            _types_cache[key] = types
    return types


def type_by_id(session, type_id):
    return next((t for t in alarm_types(session).values() if t.id == type_id), None)


def strategy_from_row(row):
    if row is None:
        return Strategy()
    codes = None if row.type_codes is None else frozenset(
        c for c in row.type_codes.split(",") if c)
    return Strategy(enabled=bool(row.enabled), email=bool(row.email_enabled), codes=codes,
                    severities=frozenset(s for s in row.severities.split(",") if s))


def strategy_of(session, enterprise_id, cached=True):
    """The enterprise's strategy; remembered STRATEGY_SECONDS per process for the ACS's sake
    (every alarm event asks)."""
    key = (_url(session), enterprise_id)
    now = time.monotonic()
    hit = _strategy_cache.get(key) if cached else None
    if hit and hit[0] > now:
        return hit[1]
    s = AlarmSetting
    row = session.execute(select(s.enabled, s.email_enabled, s.type_codes, s.severities)
                          .where(s.enterprise_id == enterprise_id)).first()
    strategy = strategy_from_row(row)
    if len(_strategy_cache) > 10_000:
        _strategy_cache.clear()
    _strategy_cache[key] = (now + STRATEGY_SECONDS, strategy)
    return strategy


def forget_strategy(session, enterprise_id):
    _strategy_cache.pop((_url(session), enterprise_id), None)


# --- raising -----------------------------------------------------------------------------------


def open_key(device_id, type_id):
    return f"{device_id}:{type_id}"


_COLUMNS = ("device_id", "enterprise_id", "type_id", "severity", "status", "open_key", "count",
            "first_at", "last_at", "description")


@functools.lru_cache(maxsize=4)
def _statements(dialect):
    """(count on the open row, insert it or count on it, one more alarm of its day), built
    once: building them per event cost more CPU than MariaDB spent running them."""
    table, daily = Alarm.__table__, AlarmDaily.__table__
    values = {c: bindparam("b_" + c) for c in _COLUMNS}
    repeat = {"count": table.c.count + 1, "last_at": bindparam("b_last_at"),
              "description": bindparam("b_description")}
    day = {"day": bindparam("b_day"), "enterprise_id": bindparam("b_enterprise_id"),
           "type_id": bindparam("b_type_id"), "severity": bindparam("b_severity"), "count": 1}
    if dialect == "sqlite":
        count_on = (update(table).where(table.c.open_key == bindparam("b_open_key"))
                    .values(**repeat).returning(table.c.id))
        stmt = sqlite.insert(table).values(**values)
        upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.open_key],
            set_={"count": table.c.count + 1, "last_at": stmt.excluded.last_at,
                  "description": stmt.excluded.description},
        ).returning(table.c.id, table.c.count)
        one_more = sqlite.insert(daily).values(**day).on_conflict_do_update(
            index_elements=[daily.c.enterprise_id, daily.c.day, daily.c.type_id],
            set_={"count": daily.c.count + 1})
        return count_on, upsert, one_more
    # LAST_INSERT_ID(id) hands back the counted row's id; the affected-rows count of the
    # upsert says which happened (1 inserted, 2 updated).
    count_on = (update(table).where(table.c.open_key == bindparam("b_open_key"))
                .values(id=func.last_insert_id(table.c.id), **repeat))
    stmt = mysql.insert(table).values(**values)
    upsert = stmt.on_duplicate_key_update(
        id=func.last_insert_id(table.c.id), count=table.c.count + 1,
        last_at=stmt.inserted.last_at, description=stmt.inserted.description)
    one_more = mysql.insert(daily).values(**day).on_duplicate_key_update(
        count=daily.c.count + 1)
    return count_on, upsert, one_more


# How raise_alarm's statements commit: in the caller's ORM transaction, or inside the
# caller's BEGIN ... COMMIT on the ACS's autocommit connection (a deadlock's victim is then
# the caller's to run again: InnoDB rolled all of it back).
ORM, BATCH = "orm", "batch"


def begin(conn):
    """BEGIN on an autocommit connection. SQLite's takes the write lock at once: a deferred
    one that read first could not take it later while another writer waited (SQLITE_BUSY at
    once, no busy timeout)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.dialect.name == "sqlite" else "BEGIN")


def _upsert(session, values):
    """(alarm id, new?) of the one open row of (device, type), counted on or inserted; a new
    row counts one more alarm of its day, enterprise and type (AlarmDaily).

    Most events repeat an open alarm: an UPDATE by the unique open key counts them (one
    index lookup; the INSERT's attempt, its duplicate and its undo cost MariaDB twice as
    much). When no row is open, the upsert: of two workers inserting the same alarm at once,
    the second counts on the first's row, and only the first counts the day. Never a read
    before a write."""
    dialect = _engine(session).dialect.name
    values = {"b_" + k: v for k, v in values.items()}
    values["b_day"] = values["b_first_at"].date()
    count_on, upsert, one_more = _statements("sqlite" if dialect == "sqlite" else "mysql")
    if dialect == "sqlite":
        row = session.execute(count_on, values).first()
        if row is not None:
            return row.id, False
        row = session.execute(upsert, values).one()
        if row.count == 1:
            session.execute(one_more, values)
        return row.id, row.count == 1
    result = session.execute(count_on, values)
    if result.rowcount == 1:
        return result.lastrowid, False
    result = session.execute(upsert, values)
    alarm_id, new = result.lastrowid, result.rowcount == 1
    if new:
        session.execute(one_more, values)
    return alarm_id, new


def raise_alarm(session, device_id, enterprise_id, code, description="", now=None,
                types=None, follow_up=True, tx=ORM):
    """Record one alarm event of a device: a new open alarm, or one more on the open one.

    Returns Raised, or None when the enterprise's strategy does not take this alarm. A new
    alarm of a log type queues an Upload of the device's log; a new Critical one queues mail
    to the receivers (when the strategy mails). The caller commits: a new alarm and its day's
    count (AlarmDaily) go together. ``session`` may be the ACS's Core connection inside the
    caller's transaction (``tx`` BATCH); the caller then passes ``follow_up=False`` and runs
    on_new_alarm in an ORM session for new ones."""
    types = types or alarm_types(session)
    info = types.get(code)
    if info is None:
        raise AlarmError(UNKNOWN_TYPE, code=str(code)[:64])
    if enterprise_id is None or not strategy_of(session, enterprise_id).allows(info):
        return None
    now = now or utcnow()
    values = {"device_id": device_id, "enterprise_id": enterprise_id, "type_id": info.id,
              "severity": info.severity, "status": AlarmStatus.open.value,
              "open_key": open_key(device_id, info.id), "count": 1, "first_at": now,
              "last_at": now, "description": str(description or "")[:MAX_DESCRIPTION]}
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            alarm_id, new = _upsert(session, values)
            break
        except OperationalError as error:  # InnoDB picked this upsert as a deadlock victim
            # Inside the caller's BEGIN the whole transaction is gone: the caller retries it.
            if getattr(error.orig, "args", (None,))[0] != 1213 or tx == BATCH or (
                    attempt == _DEADLOCK_RETRIES - 1):
                raise
            session.rollback()
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # out of step with the other
    raised = Raised(alarm_id, new, device_id, enterprise_id, code, values["description"], now)
    if new and follow_up:
        on_new_alarm(session, raised)
    return raised


def on_new_alarm(session, raised):
    """What a new alarm asks for: the device's log, mail to the receivers."""
    alarm_id, device_id, enterprise_id = raised.alarm_id, raised.device_id, raised.enterprise_id
    info, description, now = alarm_types(session)[raised.code], raised.description, raised.now
    if info.uploads_log:
        command_id = queue_log_upload(session, device_id, now)
        session.execute(update(Alarm).where(Alarm.id == alarm_id)
                        .values(log_command_id=command_id)
                        .execution_options(synchronize_session=False))
    if info.severity == Severity.critical.value:
        strategy = strategy_of(session, enterprise_id)
        if strategy.email:
            notify.queue_critical_mail(session, alarm_id, device_id, enterprise_id, info,
                                       description, now)


def queue_log_upload(session, device_id, now):
    """An Upload of the device's log file, as the diagnostics queue one (the ACS's own: no
    account asked); runs in the device's current or next session."""
    result = session.execute(DeviceCommand.__table__.insert().values(
        device_id=device_id, kind="upload", arguments=json.dumps({"file_type": LOG_FILE_TYPE}),
        status=CommandStatus.queued.value, created_on=now, updated_on=now, attempts=0))
    session.execute(update(Device).where(Device.id == device_id).values(has_work=True)
                    .execution_options(synchronize_session=False))
    return result.inserted_primary_key[0]


def clear_open_alarm(session, device_id, code, by=DEVICE, now=None):
    """The device says the condition is over (PerceivedSeverity "Cleared", registered again):
    its open alarm of that type closes. Returns whether one did."""
    info = alarm_types(session).get(code)
    if info is None:
        return False
    return _close(session, [Alarm.open_key == open_key(device_id, info.id)], by, now) > 0


# --- acknowledging and clearing (the list's actions) --------------------------------------------


def _checked_ids(session, principal, ids):
    """The alarm ids, every one in the principal's scope; one forged id refuses them all."""
    pks = {scope.parse_pk(i) for i in ids}
    if not pks:
        raise AlarmError(NOTHING_CHOSEN)
    if None in pks or len(pks) > 1000:
        raise scope.OutOfScope("alarm ids")
    found = set(session.execute(visible_alarms(select(Alarm.id).where(Alarm.id.in_(pks)),
                                               principal)).scalars())
    if found != pks:
        raise scope.OutOfScope("alarm ids")
    return sorted(pks)


def acknowledge_alarms(session, principal, ids, by, now=None):
    """Open alarms among ``ids`` become acknowledged. Returns how many changed."""
    pks = _checked_ids(session, principal, ids)
    return session.execute(
        update(Alarm).where(Alarm.id.in_(pks), Alarm.status == AlarmStatus.open)
        .values(status=AlarmStatus.acknowledged, acknowledged_on=now or utcnow(),
                acknowledged_by=by[:128])
        .execution_options(synchronize_session=False)).rowcount


def clear_alarms(session, principal, ids, by, now=None):
    """Alarms among ``ids`` not yet cleared close: a repeat then opens a new one."""
    pks = _checked_ids(session, principal, ids)
    return _close(session, [Alarm.id.in_(pks)], by, now)


def _close(session, where, by, now):
    return session.execute(
        update(Alarm).where(*where, Alarm.status != AlarmStatus.cleared)
        .values(status=AlarmStatus.cleared, open_key=None, cleared_on=now or utcnow(),
                cleared_by=str(by)[:128])
        .execution_options(synchronize_session=False)).rowcount


# --- Enterprise Alarm Settings ----------------------------------------------------------------


def receiver_candidates(session, principal, enterprise):
    """Accounts that may receive the enterprise's alarm mail, as the principal may pick them:
    the master account and sub-accounts of the principal's own channel (for the platform:
    of the enterprise's channel and its ancestors) that see the enterprise's devices."""
    cc = ChannelClosure
    ancestors = select(cc.ancestor_id).where(cc.descendant_id == enterprise.channel_id)
    if principal.is_channel:
        channels = [principal.channel_id]
    elif principal.is_admin:
        channels = list(session.execute(ancestors).scalars())
    else:
        return []
    granted_channel = select(AccountGrant.account_id).where(
        AccountGrant.channel_id.in_(ancestors))
    granted_enterprise = select(AccountGrant.account_id).where(
        AccountGrant.enterprise_id == enterprise.id)
    query = select(Account).where(
        Account.channel_id.in_(channels), Account.active.is_(True),
        (Account.kind == AccountKind.channel_master)
        | ((Account.kind == AccountKind.channel_sub)
           & (Account.id.in_(granted_channel) | Account.id.in_(granted_enterprise)))
    ).order_by(Account.username).limit(500)
    accounts = session.execute(query).scalars().all()
    # The same rule the list uses: a channel sees an enterprise's devices while authorized.
    return [a for a in accounts if _sees_devices(session, scope.principal_of(a), enterprise.id)]


def _sees_devices(session, principal, enterprise_id):
    ids = scope.device_enterprise_ids(principal)
    if ids is None:
        return True
    return session.execute(ids.where(Enterprise.id == enterprise_id)).first() is not None


def receivers_of(session, enterprise_id):
    return set(session.execute(select(AlarmReceiver.account_id).where(
        AlarmReceiver.enterprise_id == enterprise_id)).scalars())


def save_setting(session, principal, enterprise, *, enabled, severities, codes, receiver_ids,
                 email, by):
    """Store the enterprise's strategy. Receivers must be among the principal's candidates
    (a forged id raises OutOfScope); receivers the principal cannot pick (another channel's)
    are kept as they were. The caller commits."""
    severities = [s for s in dict.fromkeys(severities)]
    for value in severities:
        if value not in SEVERITIES:
            raise AlarmError(BAD_SEVERITY, value=str(value)[:32])
    codes = list(dict.fromkeys(codes))
    for code in codes:
        if code not in CODES:
            raise AlarmError(UNKNOWN_TYPE, code=str(code)[:64])
    candidates = {a.id for a in receiver_candidates(session, principal, enterprise)}
    wanted = {scope.parse_pk(i) for i in receiver_ids}
    if None in wanted or not wanted <= candidates:
        raise scope.OutOfScope("receiver")
    row = session.execute(select(AlarmSetting).where(
        AlarmSetting.enterprise_id == enterprise.id)).scalar()
    if row is None:
        row = AlarmSetting(enterprise_id=enterprise.id)
        session.add(row)
    row.enabled = bool(enabled)
    row.severities = ",".join(s for s in SEVERITIES if s in severities)
    row.type_codes = None if set(codes) == set(CODES) else ",".join(sorted(codes))
    row.email_enabled = bool(email)
    row.updated_on = utcnow()
    row.updated_by = str(by)[:128]
    current = receivers_of(session, enterprise.id)
    for account_id in (current & candidates) - wanted:
        session.execute(AlarmReceiver.__table__.delete().where(
            AlarmReceiver.enterprise_id == enterprise.id,
            AlarmReceiver.account_id == account_id))
    for account_id in wanted - current:
        session.add(AlarmReceiver(enterprise_id=enterprise.id, account_id=account_id))
    session.flush()
    forget_strategy(session, enterprise.id)
    return row
