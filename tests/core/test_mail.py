"""The mail outbox, sending real SMTP to a local aiosmtpd server started here on 127.0.0.1.

The module has a database of its own (SQLite, or MariaDB with YMCS_TEST_DB=mariadb), so what
arrives at the server is exactly what these tests queued.
"""

import datetime
import socket
import threading
import uuid

import pytest
from sqlalchemy import delete, func, select

from app.core import mail
from app.core.jobs import job_registry
from app.core.mail import (
    MailError,
    enqueue_mail,
    retry_delay,
    send_due_mail,
)
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus, utcnow

from .. import conftest
from ..conftest import create_test_database, make_app, migrate_and_sync
from ..smtp import SmtpServer

SENDER = "YMCS <no-reply@ymcs.example>"
TEXT_BYTES = 65535  # a body is stored in a TEXT column (MariaDB's limit, in UTF-8 bytes)


@pytest.fixture(scope="module")
def smtp_port():
    # The worker's own relay port (tests/conftest.py): no other xdist worker listens on it,
    # and this module's server and the suite's are never up at the same time.
    return conftest.SMTP_PORT


@pytest.fixture(scope="module")
def mail_app(tmp_path_factory, smtp_port):
    url, drop = create_test_database(tmp_path_factory.mktemp("mail"))
    app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_TIMEOUT=2,
                   MAIL_DEFAULT_SENDER=SENDER)
    migrate_and_sync(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def session(mail_app):
    with mail_app.app_context():
        yield db.session
        db.session.rollback()
        db.session.execute(delete(OutboxMessage))
        db.session.commit()


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


def later(seconds, start=None):
    return (start or utcnow()) + datetime.timedelta(seconds=seconds)


def address(name="user"):
    return f"{name}-{uuid.uuid4().hex[:6]}@example.com"


def rows(session):
    session.rollback()  # read what is committed now, not an old snapshot
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def text_of(message, subtype="plain"):
    # MIME's canonical text has CRLF line ends; an encoded (base64) body keeps them.
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n")


def count_rows(session):
    return session.scalar(select(func.count()).select_from(OutboxMessage))


# Queueing belongs to the caller's transaction


def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(session, mail_app, smtp):
    enqueue_mail(session, address(), "Welcome", "Your account is ready.")
    session.rollback()  # the change that caused the mail failed
    run = send_due_mail(session, mail_app)
    assert run.sent == 0
    assert count_rows(session) == 0
    assert smtp.received == []


def test_committed_mail_arrives_once_with_its_recipient_subject_and_body(
        session, mail_app, smtp):
    recipient = address("anna")
    subject = "Réinitialiser votre mot de passe — YMCS"
    enqueue_mail(session, recipient, subject, "Hello Anna,\nopen the link: ü ✓\n",
                 body_html="<p>Hello Anna, <b>open</b> the link</p>")
    session.commit()

    run = send_due_mail(session, mail_app)
    assert (run.sent, run.retrying, run.failed) == (1, 0, 0)
    assert len(smtp.received) == 1
    envelope_to, message = smtp.received[0]
    assert envelope_to == [recipient]
    assert message["To"] == recipient
    assert message["From"] == SENDER
    assert message["Subject"] == subject
    assert message["Message-ID"].endswith("@ymcs.example>")
    assert text_of(message) == "Hello Anna,\nopen the link: ü ✓\n"
    assert "<b>open</b>" in text_of(message, "html")

    [row] = rows(session)
    assert row.status == OutboxStatus.sent and row.sent_at is not None
    assert row.attempts == 1 and row.last_error is None
    assert send_due_mail(session, mail_app, now=later(86400)).sent == 0
    assert len(smtp.received) == 1


def test_a_text_only_mail_is_plain_text(session, mail_app, smtp):
    enqueue_mail(session, address(), "Alarm", "Device 001565aabbcc is offline.")
    session.commit()
    send_due_mail(session, mail_app)
    [(_to, message)] = smtp.received
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Device 001565aabbcc is offline.\n"


# An outage delays mail and loses none


def test_smtp_outage_keeps_mail_waiting_then_delivers_each_message_once(
        session, mail_app, smtp):
    smtp.stop()
    recipients = sorted(address(f"u{i}") for i in range(3))
    for recipient in recipients:
        enqueue_mail(session, recipient, "Order effective", "Your order is now effective.")
    session.commit()

    down_at = utcnow()
    run = send_due_mail(session, mail_app, now=down_at)
    assert (run.sent, run.retrying, run.failed) == (0, 3, 0)
    for row in rows(session):
        assert row.status == OutboxStatus.pending
        assert row.attempts == 1
        assert row.next_attempt_at >= later(retry_delay(1).seconds - 1, down_at)
        assert "MailConnectError" in row.last_error and "Connection refused" in row.last_error
    # Before the backoff is over nothing is tried again, down or up.
    assert send_due_mail(session, mail_app, now=later(5, down_at)).retrying == 0

    smtp.start()
    assert send_due_mail(session, mail_app, now=later(5, down_at)).sent == 0
    assert smtp.received == []

    run = send_due_mail(session, mail_app, now=later(retry_delay(1).seconds + 1, down_at))
    assert run.sent == 3
    assert smtp.handler.recipients() == recipients
    assert {row.status for row in rows(session)} == {OutboxStatus.sent}
    assert {row.attempts for row in rows(session)} == {2}

    assert send_due_mail(session, mail_app, now=later(7 * 86400, down_at)).sent == 0
    assert smtp.handler.recipients() == recipients


def test_a_relay_that_never_answers_times_out(session, mail_app, monkeypatch):
    # Accepts connections (the kernel's backlog) and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setitem(mail_app.extensions["mail"].__dict__, "port",
                            silent.getsockname()[1])
        monkeypatch.setitem(mail_app.config, "MAIL_TIMEOUT", 0.3)
        for _ in range(3):
            enqueue_mail(session, address(), "Digest", "3 new alarms.")
        session.commit()
        run = send_due_mail(session, mail_app)
        # Every connection the run opened waits in the backlog (the kernel completed each
        # handshake): one, so one timeout for the run, not one per message.
        silent.setblocking(False)
        connections = []
        while True:
            try:
                connections.append(silent.accept()[0])
            except BlockingIOError:
                break
        for connection in connections:
            connection.close()
    assert run.retrying == 3
    assert len(connections) == 1
    assert all("timed out" in row.last_error for row in rows(session))


def test_a_refused_message_does_not_hold_back_the_others(session, mail_app, smtp):
    good, bad = address("good"), address("gone")
    smtp.handler.refuse.add(bad)
    enqueue_mail(session, bad, "Hello", "first in line")
    enqueue_mail(session, good, "Hello", "second in line")
    session.commit()
    run = send_due_mail(session, mail_app)
    assert (run.sent, run.failed) == (1, 1)
    assert smtp.handler.recipients() == [good]
    refused = next(row for row in rows(session) if row.recipient == bad)
    # a 5xx answer fails at once, with the server's reason
    assert refused.status == OutboxStatus.failed and "550" in refused.last_error
    assert "No such user here" in refused.last_error and refused.attempts == 1


def test_a_message_that_keeps_failing_ends_failed_after_max_attempts(
        session, mail_app, smtp, monkeypatch):
    monkeypatch.setitem(mail_app.config, "MAIL_MAX_ATTEMPTS", 3)
    bad = address("busy")
    smtp.handler.busy.add(bad)  # 4xx: retried until the last attempt
    enqueue_mail(session, bad, "Hello", "never delivered")
    session.commit()
    now = utcnow()
    for attempt in (1, 2, 3):
        run = send_due_mail(session, mail_app, now=now)
        [row] = rows(session)
        assert row.attempts == attempt
        now = later(retry_delay(attempt).seconds + 1, now)
    assert run.failed == 1
    assert row.status == OutboxStatus.failed and "450" in row.last_error
    assert send_due_mail(session, mail_app, now=later(30 * 86400)).failed == 0
    assert smtp.received == []


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [retry_delay(n).seconds for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(8).seconds == 3600 and retry_delay(20).seconds == 3600


# Senders never send a message twice


def test_two_overlapping_senders_deliver_each_message_once(session, mail_app, smtp):
    recipients = sorted(address(f"c{i}") for i in range(12))
    for recipient in recipients:
        enqueue_mail(session, recipient, "Statement", "Your monthly statement is ready.")
    session.commit()
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def sender():
        with mail_app.app_context():  # a session and a connection of its own
            barrier.wait()
            try:
                runs.append(send_due_mail(db.session, mail_app))
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(run.sent for run in runs) == 12
    assert smtp.handler.recipients() == recipients


def test_a_message_whose_sender_died_mid_send_is_sent_once_its_in_flight_time_is_over(
        session, mail_app, smtp):
    enqueue_mail(session, address(), "Hello", "claimed, then the sender was killed")
    session.commit()
    claimed_at = utcnow()
    [row] = mail._due_rows(session, claimed_at, batch=10)
    assert mail._claim(session, row, claimed_at, mail_app.config["MAIL_TIMEOUT"])
    # Left alone for the first retry's 30 s, which is longer than ten SMTP steps (connect,
    # EHLO ... the body) of MAIL_TIMEOUT (2 s here) each.
    in_flight = 30

    assert send_due_mail(session, mail_app, now=later(in_flight - 2, claimed_at)).sent == 0
    assert send_due_mail(session, mail_app, now=later(in_flight + 2, claimed_at)).sent == 1
    assert len(smtp.received) == 1
    assert rows(session)[0].attempts == 2


# Queueing refuses what cannot be sent


@pytest.mark.parametrize("recipient", [
    "not-an-address", "a@b", "two@@example.com", "a b@example.com",
    "evil@example.com\r\nBcc: x@example.com", "", None, "ü@example.com",
])
def test_an_invalid_recipient_is_refused_and_nothing_is_queued(session, recipient):
    with pytest.raises(MailError) as refused:
        enqueue_mail(session, recipient, "Hello", "Hi")
    assert refused.value.field == "recipient"
    assert not session.new
    session.commit()
    assert count_rows(session) == 0


def test_a_recipient_is_stored_normalized(session):
    message = enqueue_mail(session, "Anna@Bücher.Example", "Hello", "Hi")
    assert message.recipient == "Anna@xn--bcher-kva.example"


@pytest.mark.parametrize("subject, body_text, body_html, field", [
    ("", "Hi", None, "subject"),
    ("   ", "Hi", None, "subject"),
    ("Hello\r\nBcc: x@example.com", "Hi", None, "subject"),
    ("x" * 256, "Hi", None, "subject"),
    ("Hello", None, None, "body_text"),
    ("Hello", "é" * (TEXT_BYTES // 2 + 1), None, "body_text"),
    ("Hello", "Hi", "x" * (TEXT_BYTES + 1), "body_html"),
], ids=["empty-subject", "blank-subject", "two-line-subject", "long-subject", "no-body",
        "long-body-in-bytes", "long-html"])
def test_subject_and_body_limits_are_enforced(session, subject, body_text, body_html, field):
    with pytest.raises(MailError) as refused:
        enqueue_mail(session, address(), subject, body_text, body_html=body_html)
    assert refused.value.field == field
    assert not session.new


def test_the_largest_allowed_mail_is_stored_and_sent(session, mail_app, smtp):
    body = "é" * (TEXT_BYTES // 2)  # 2 bytes each in UTF-8: just under the limit
    enqueue_mail(session, address(), "x" * 255, body, body_html="<p>" + "x" * 65000 + "</p>")
    session.commit()
    assert send_due_mail(session, mail_app).sent == 1
    [(_to, message)] = smtp.received
    assert text_of(message) == body + "\n"
    assert text_of(message, "html") == "<p>" + "x" * 65000 + "</p>\n"


# The scheduler sends the outbox


def test_the_outbox_job_is_registered_and_sends_due_mail(session, mail_app, smtp):
    [job] = [job for job in job_registry(mail_app) if job.name == "send_outbox_mail"]
    assert job.seconds == 10  # MAIL_OUTBOX_SECONDS' default
    recipient = address()
    enqueue_mail(session, recipient, "Hello", "from the scheduler")
    session.commit()
    run = job.func()  # as the Ticker calls it: no arguments, inside the app context
    assert run.sent == 1
    assert smtp.handler.recipients() == [recipient]
