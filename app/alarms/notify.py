"""Alarm mail, through the outbox (app/core/mail.py): a Critical alarm at once to the
enterprise's receivers; the rest in one digest per receiver and period.

Mail is written in the receiver's language (Account.language) from the compiled catalogue
directly: a Critical alarm may be raised in the ACS, where there is no Flask request or app
context. Exactly one digest per receiver and period: its ledger row (AlarmDigest, unique on
account and period) is inserted in the transaction that queues the mail, so of three
schedulers running the job at once one inserts and queues, the others hit the key and skip.
"""

import datetime
import functools
import logging
import os

from babel.support import NullTranslations, Translations
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.core import scope
from app.core.mail import MailError, enqueue_mail
from app.core.show import format_mac
from app.models import (
    Account,
    Alarm,
    AlarmDigest,
    AlarmReceiver,
    AlarmSetting,
    AlarmType,
    Device,
    Enterprise,
    Severity,
    utcnow,
)

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "translations")
DIGEST_MAX_LINES = 200


def _N(message):
    return message


SEVERITY_NAMES = {"critical": _N("Critical"), "major": _N("Major"), "minor": _N("Minor")}
CRITICAL_SUBJECT = _N("[YMCS] Critical alarm: %(type)s on %(mac)s")
CRITICAL_BODY = _N("A critical alarm was raised.\n\nAlarm type: %(type)s\nDevice: %(mac)s "
                   "(%(model)s)\nEnterprise: %(enterprise)s\nTime (UTC): %(time)s\n"
                   "Description: %(description)s\n")
DIGEST_SUBJECT = _N("[YMCS] %(count)s alarms from %(start)s to %(end)s (UTC)")
DIGEST_HEAD = _N("Alarms raised or repeated from %(start)s to %(end)s (UTC):")
DIGEST_MORE = _N("... and %(count)s more: see Alarm Management > Alarms.")


@functools.lru_cache(maxsize=8)
def translations(language):
    if not (language or "").startswith("zh"):
        return NullTranslations()
    return Translations.load(TRANSLATIONS_DIR, ["zh"])


def text(language, message, **params):
    return translations(language).gettext(message) % params if params else translations(
        language).gettext(message)


def _name(language, en, zh):
    return zh if (language or "").startswith("zh") else en


def _receivers(session, enterprise_id):
    """Active receiver accounts that still see the enterprise's devices (scope is asked at
    sending time: a receiver who lost the enterprise gets nothing more of it)."""
    accounts = session.execute(
        select(Account).join(AlarmReceiver, AlarmReceiver.account_id == Account.id)
        .where(AlarmReceiver.enterprise_id == enterprise_id, Account.active.is_(True))
    ).scalars().all()
    out = []
    for account in accounts:
        ids = scope.device_enterprise_ids(scope.principal_of(account))
        if ids is None or session.execute(ids.where(Enterprise.id == enterprise_id)).first():
            out.append(account)
    return out


def _queue(session, account, subject, body):
    try:
        enqueue_mail(session, account.email, subject, body)
    except MailError:  # an account with an address no relay takes: the others still get theirs
        log.warning("alarm mail to account %s not queued: bad address", account.id)


def queue_critical_mail(session, alarm_id, device_id, enterprise_id, info, description, now):
    row = session.execute(
        select(Device.mac, Device.model, Enterprise.name)
        .join(Enterprise, Enterprise.id == enterprise_id).where(Device.id == device_id)).first()
    if row is None:
        return 0
    receivers = _receivers(session, enterprise_id)
    for account in receivers:
        language = account.language
        params = {"type": info.name(language), "mac": format_mac(row.mac) or "—",
                  "model": row.model or "—", "enterprise": row.name,
                  "time": now.strftime("%Y-%m-%d %H:%M:%S"), "description": description or "—"}
        _queue(session, account, text(language, CRITICAL_SUBJECT, **params)[:255],
               text(language, CRITICAL_BODY, **params))
    return len(receivers)


# --- digests -----------------------------------------------------------------------------------


def period_of(now, seconds):
    """[start, end) of the last whole period before ``now`` (periods count from the epoch)."""
    epoch = datetime.datetime(1970, 1, 1)
    end_s = int((now - epoch).total_seconds()) // seconds * seconds
    end = epoch + datetime.timedelta(seconds=end_s)
    return end - datetime.timedelta(seconds=seconds), end


def send_digests(session, seconds, now=None):
    """Queue the digest of the last whole period for every receiver who has one due; safe to
    run any number of times, in any number of processes. Returns how many were queued."""
    start, end = period_of(now or utcnow(), seconds)
    account_ids = session.execute(
        select(AlarmReceiver.account_id).distinct()
        .join(AlarmSetting, AlarmSetting.enterprise_id == AlarmReceiver.enterprise_id)
        .where(AlarmSetting.enabled.is_(True), AlarmSetting.email_enabled.is_(True))
        .outerjoin(AlarmDigest, (AlarmDigest.account_id == AlarmReceiver.account_id)
                   & (AlarmDigest.period_start == start))
        .where(AlarmDigest.id.is_(None))).scalars().all()
    session.rollback()  # no read snapshot held across the inserts below
    queued = 0
    for account_id in account_ids:
        if _send_digest(session, account_id, start, end):
            queued += 1
    return queued


def _digest_alarms(session, account, start, end):
    enterprise_ids = select(AlarmReceiver.enterprise_id).join(
        AlarmSetting, AlarmSetting.enterprise_id == AlarmReceiver.enterprise_id).where(
        AlarmReceiver.account_id == account.id, AlarmSetting.enabled.is_(True),
        AlarmSetting.email_enabled.is_(True))
    query = (select(Alarm.severity, Alarm.count, Alarm.last_at, Alarm.description,
                    AlarmType.name_en, AlarmType.name_zh, Device.mac, Enterprise.name)
             .join(AlarmType, AlarmType.id == Alarm.type_id)
             .join(Device, Device.id == Alarm.device_id)
             .join(Enterprise, Enterprise.id == Alarm.enterprise_id)
             .where(Alarm.enterprise_id.in_(enterprise_ids),
                    Alarm.severity != Severity.critical,
                    Alarm.last_at >= start, Alarm.last_at < end))
    visible = scope.device_enterprise_ids(scope.principal_of(account))
    if visible is not None:
        query = query.where(Alarm.enterprise_id.in_(visible))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar()
    rows = session.execute(query.order_by(Alarm.last_at, Alarm.id)
                           .limit(DIGEST_MAX_LINES)).all()
    return total, rows


def _send_digest(session, account_id, start, end):
    account = session.get(Account, account_id)
    if account is None or not account.active:
        return False
    total, rows = _digest_alarms(session, account, start, end)
    if not total:
        session.rollback()
        return False
    language = account.language
    span = {"start": start.strftime("%Y-%m-%d %H:%M"), "end": end.strftime("%Y-%m-%d %H:%M")}
    lines = [text(language, DIGEST_HEAD, **span), ""]
    for r in rows:
        severity = r.severity.value if hasattr(r.severity, "value") else r.severity
        lines.append(f"- [{text(language, SEVERITY_NAMES[severity])}] "
                     f"{_name(language, r.name_en, r.name_zh)} · {format_mac(r.mac) or '—'} · "
                     f"{r.name} · "
                     f"×{r.count} · {r.last_at:%Y-%m-%d %H:%M}"
                     + (f" · {r.description}" if r.description else ""))
    if total > len(rows):
        lines.append(text(language, DIGEST_MORE, count=total - len(rows)))
    try:
        session.add(AlarmDigest(account_id=account.id, period_start=start, alarms=total))
        session.flush()  # the ledger row first: a second scheduler stops here
        _queue(session, account, text(language, DIGEST_SUBJECT, count=total, **span)[:255],
               "\n".join(lines) + "\n")
        session.commit()
    except (IntegrityError, OperationalError) as error:
        session.rollback()
        # Another scheduler's ledger row won (a duplicate key, or InnoDB's deadlock victim).
        if isinstance(error, OperationalError) and getattr(error.orig, "args", (0,))[0] != 1213:
            raise
        return False
    return True
