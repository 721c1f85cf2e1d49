"""Alarm mail: a Critical alarm at once to the receivers over real SMTP, the rest in one digest
per receiver and period, exactly once however many schedulers run the job at the same time."""

import datetime
import threading

from sqlalchemy import func, select

from app.alarms import notify, rules
from app.alarms.types import CODES
from app.core import scope
from app.core.mail import send_due_mail
from app.core.show import format_mac
from app.extensions import db
from app.models import Account, AlarmDigest, Enterprise, OutboxMessage, utcnow

from .support import device_of


def _receive(session, t, *accounts, language=None):
    enterprise = session.get(Enterprise, t.E)
    principal = scope.principal_of(session.get(Account, t.a))  # A picks its own and its sub
    for account_id in accounts:
        if language:
            session.get(Account, account_id).language = language
    rules.save_setting(session, principal, enterprise, enabled=True,
                       severities=["critical", "major", "minor"], codes=list(CODES),
                       receiver_ids=list(accounts), email=True, by="a")
    session.commit()


def test_critical_alarm_mails_the_receivers_at_once(app, db_session, fresh_tree, smtp_server):
    t = fresh_tree
    _receive(db_session, t, t.a, t.sub)
    device = device_of(db_session, t.E)
    rules.raise_alarm(db_session, device.id, t.E, "application_no_response", "frozen UI")
    db_session.commit()
    send_due_mail(db_session, app)
    got = {rcpt: message for rcpts, message in smtp_server.received for rcpt in rcpts}
    for email in (t.a_email, t.sub_email):
        assert "Critical alarm: Application no response" in got[email]["Subject"]
        assert "frozen UI" in got[email].get_content()
        assert format_mac(device.mac) in got[email].get_content()  # as the screens write it
    assert t.c_email not in got  # not a receiver


def test_one_digest_per_receiver_and_period_with_three_schedulers(app, db_session, fresh_tree,
                                                                 smtp_server):
    t = fresh_tree
    _receive(db_session, t, t.a, language="zh")
    device = device_of(db_session, t.E)
    start, end = notify.period_of(utcnow(), 3600)
    during = start + datetime.timedelta(minutes=10)
    for code in ("hold_failure", "rtp_dead", "device_reboot"):
        rules.raise_alarm(db_session, device.id, t.E, code, "it happened", now=during)
    rules.raise_alarm(db_session, device.id, t.E, "kernel_panic", now=during)  # mailed at once
    db_session.commit()
    barrier = threading.Barrier(3)
    sent = []

    def scheduler():
        with app.app_context():
            barrier.wait()
            sent.append(notify.send_digests(db.session, 3600, now=end + datetime.timedelta(
                seconds=30)))
            sent.append(notify.send_digests(db.session, 3600, now=end + datetime.timedelta(
                seconds=40)))

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db_session.execute(select(func.count(AlarmDigest.id)).where(
        AlarmDigest.account_id == t.a, AlarmDigest.period_start == start)).scalar() == 1
    db_session.commit()
    digests = db_session.execute(select(OutboxMessage).where(
        OutboxMessage.recipient == t.a_email,
        OutboxMessage.subject.like("%3 条告警%"))).scalars().all()
    assert len(digests) == 1
    assert "保持失败" in digests[0].body_text and "设备重启" in digests[0].body_text
    assert f"· {format_mac(device.mac)} ·" in digests[0].body_text
    assert "内核崩溃" not in digests[0].body_text  # Critical went at once, not in the digest
    send_due_mail(db_session, app)
    assert any(t.a_email in rcpts and "3 条告警" in message["Subject"]
               for rcpts, message in smtp_server.received)


def test_a_receiver_who_lost_the_enterprise_gets_no_more_of_it(db_session, fresh_tree):
    t = fresh_tree
    _receive(db_session, t, t.a)
    enterprise = db_session.get(Enterprise, t.E)
    enterprise.authorization = "rejected"  # the enterprise withdrew the channel's authorization
    db_session.commit()
    device = device_of(db_session, t.E)
    rules.raise_alarm(db_session, device.id, t.E, "kernel_panic")
    db_session.commit()
    assert db_session.execute(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == t.a_email)).scalar() == 0
