"""What the alarm screens read, always through app/core/scope.py: the scope of alarms, the
bell, the charts and the home page's counts."""

import datetime
import time

from sqlalchemy import false, func, select

from app.core import scope
from app.models import (
    Alarm,
    AlarmBellSeen,
    AlarmDaily,
    AlarmStatus,
    AlarmType,
    Device,
    utcnow,
)

BELL_ROWS = 8
BELL_NEW_CAP = 99
BELL_SECONDS = 15  # the bell's figures are this fresh at worst (per user, per process)


def visible_alarms(query, principal=None):
    """Alarms of the enterprises whose devices the principal sees (a channel: only while the
    enterprise authorizes it, as for the devices themselves)."""
    principal = principal or scope.current_principal()
    if principal.kind is None:
        return query.where(false())
    ids = scope.device_enterprise_ids(principal)
    return query if ids is None else query.where(Alarm.enterprise_id.in_(ids))


SCOPE_LIST_MAX = 50  # enterprises a list query names as constants rather than a subquery


def listed_alarms(session, query, principal):
    """visible_alarms for the list's statements: a scope of at most SCOPE_LIST_MAX enterprises
    is named by its ids (read anew for every request, never cached: an enterprise that
    withdraws its authorization is gone from the next page). MariaDB then weighs the scope's
    few rows against a filter's index; with the subquery it walked the type filter's index
    through 192k alarms of every tenant to find a small channel's 60 (2 s at 5M alarms)."""
    if principal.kind is None:
        return query.where(false())
    subquery = scope.device_enterprise_ids(principal)
    if subquery is None:
        return query
    ids = session.execute(subquery.limit(SCOPE_LIST_MAX + 1)).scalars().all()
    if len(ids) > SCOPE_LIST_MAX:
        return query.where(Alarm.enterprise_id.in_(subquery))
    return query.where(Alarm.enterprise_id.in_(ids)) if ids else query.where(false())


def walk_newest_first(query):
    """MySQL/MariaDB: read the alarm table first, in the ORDER BY's order, and the scope's
    subquery once (materialized) instead of flattening it into a join that starts from the
    tenant tree and sorts every alarm in scope. Right when the scope holds many alarms (the
    walk stops after a page of them); wrong for a small one (it would read the table until a
    page of its few alarms turned up). Other databases ignore it."""
    for dialect in ("mysql", "mariadb"):
        query = query.prefix_with("STRAIGHT_JOIN", dialect=dialect)
    return query


_BIG_SCOPE = {}  # (database URL, principal) -> (until, bool)
BIG_SCOPE_ROWS = 10_000
BIG_SCOPE_SECONDS = 300


def scope_is_big(session, principal):
    """Whether the principal sees more than BIG_SCOPE_ROWS alarms (a probe through the scope's
    index, remembered BIG_SCOPE_SECONDS: it only picks a plan)."""
    if not principal.is_channel:
        return False  # the platform reads the table in order anyway; an enterprise is small
    key = (str(session.get_bind().url), principal)
    now = time.monotonic()
    hit = _BIG_SCOPE.get(key)
    if hit and hit[0] > now:
        return hit[1]
    probe = visible_alarms(select(Alarm.id), principal).limit(1).offset(BIG_SCOPE_ROWS)
    big = session.execute(probe).first() is not None
    if len(_BIG_SCOPE) > 10_000:
        _BIG_SCOPE.clear()
    _BIG_SCOPE[key] = (now + BIG_SCOPE_SECONDS, big)
    return big


def open_by_severity(session, principal):
    """{severity: open alarms} in scope, for the home page."""
    query = visible_alarms(select(Alarm.severity, func.count()).where(
        Alarm.status.in_((AlarmStatus.open, AlarmStatus.acknowledged))), principal).group_by(
        Alarm.severity)
    return {(s.value if hasattr(s, "value") else s): n for s, n in session.execute(query)}


# --- the bell -------------------------------------------------------------------------------------

_bell_cache = {}  # (database URL, principal) -> (until, Bell)
_BELL_CACHE_MAX = 5000


class Bell:
    __slots__ = ("rows", "new", "newest_id")

    def __init__(self, rows, new, newest_id):
        self.rows, self.new, self.newest_id = rows, new, newest_id


def bell(session, principal, now=None):
    """The latest alarms in scope and how many arrived since the user last opened the bell:
    one query (the seen mark joined in), remembered BELL_SECONDS per user and process."""
    key = (str(session.get_bind().url), principal)
    clock = time.monotonic()
    hit = _bell_cache.get(key)
    if hit and hit[0] > clock:
        return hit[1]
    seen = select(AlarmBellSeen.seen_id).where(
        AlarmBellSeen.account_id == principal.account_id).scalar_subquery()
    query = visible_alarms(
        select(Alarm.id, Alarm.severity, Alarm.last_at, Alarm.count, Device.mac,
               AlarmType.name_en, AlarmType.name_zh,
               (Alarm.id > func.coalesce(seen, 0)).label("is_new"))
        # LEFT JOINs: the alarm table is read first, newest first (INNER JOINs let MariaDB
        # start from the 26 types and sort every alarm: 38 s at 5M alarms).
        .outerjoin(Device, Device.id == Alarm.device_id)
        .outerjoin(AlarmType, AlarmType.id == Alarm.type_id), principal
    ).order_by(Alarm.id.desc()).limit(BELL_NEW_CAP + 1)
    if scope_is_big(session, principal):
        query = walk_newest_first(query)
    rows = session.execute(query).all()
    new = sum(1 for r in rows if r.is_new)
    result = Bell(rows[:BELL_ROWS], new, rows[0].id if rows else 0)
    if len(_bell_cache) >= _BELL_CACHE_MAX:
        for stale in [k for k, (until, _b) in _bell_cache.items() if until <= clock]:
            del _bell_cache[stale]
        if len(_bell_cache) >= _BELL_CACHE_MAX:
            _bell_cache.clear()
    _bell_cache[key] = (clock + BELL_SECONDS, result)
    return result


def forget_bell(session, principal):
    _bell_cache.pop((str(session.get_bind().url), principal), None)


def mark_bell_opened(session, principal, newest_id):
    """The user opened the bell: what it showed is no longer new."""
    row = session.get(AlarmBellSeen, principal.account_id)
    if row is None:
        session.add(AlarmBellSeen(account_id=principal.account_id, seen_id=newest_id,
                                  opened_on=utcnow()))
    elif newest_id > row.seen_id:
        row.seen_id, row.opened_on = newest_id, utcnow()
    forget_bell(session, principal)


# --- charts ---------------------------------------------------------------------------------------

CHART_DAYS = 30
TOP_TYPES = 10


def chart_counts(session, principal, now=None, days=CHART_DAYS, limit=TOP_TYPES):
    """(first day, {(date, severity): alarms first raised that day}, [(type id, alarms)] most
    frequent first) over the last ``days`` days, from the daily roll-up (AlarmDaily: at most
    a row per enterprise, day and type) of the enterprises in scope. Grouped by day and type
    only (a type has one severity): the platform's sum then follows its index's order."""
    severity_of = {i: getattr(s, "value", s) for i, s in session.execute(
        select(AlarmType.id, AlarmType.severity))}  # 26 rows
    start = _day_start(now, days)
    d = AlarmDaily
    query = select(d.day, d.type_id, func.sum(d.count)).where(
        d.day >= start.date()).group_by(d.day, d.type_id)
    if principal.kind is None:
        query = query.where(false())
    else:
        ids = scope.device_enterprise_ids(principal)
        if ids is not None:
            query = query.where(d.enterprise_id.in_(ids))
            if scope_is_big(session, principal):
                # The (day, type) index in order, the scope materialized once: no temporary
                # table (1.3 s -> 1.0 s for 499 enterprises); a small scope reads its ranges.
                query = walk_newest_first(query)
    per_day, per_type = {}, {}
    for day, type_id, n in session.execute(query):
        if type_id not in severity_of:
            continue
        day = day if isinstance(day, datetime.date) else datetime.date.fromisoformat(str(day))
        key = (day, severity_of[type_id])
        per_day[key] = per_day.get(key, 0) + int(n)
        per_type[type_id] = per_type.get(type_id, 0) + int(n)
    top = sorted(per_type.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return start.date(), per_day, top


def _day_start(now, days):
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=days - 1)
