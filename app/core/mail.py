"""The mail outbox: every mail the portal sends is a row first, and an SMTP message later.

enqueue_mail() adds the row to the caller's session, so the mail exists exactly when the change
that caused it commits (a rolled-back account creation mails nobody). The outbox job
(send_outbox_job, registered in app/core/jobs.py) calls send_due_mail(): it sends each pending row
whose time has come with Flask-Mail, and on failure pushes the row back with exponential
backoff. An SMTP outage therefore delays mail and loses none; after MAIL_MAX_ATTEMPTS failed
attempts a row is marked failed and kept, with its last error, for someone to look at. A
permanent refusal (an SMTP 5xx answer about the message) fails it at once with that answer;
4xx answers and connection errors are retried. resend() gives a failed row another round.

Each row is claimed (a conditional UPDATE, committed) before it is sent and marked after, one
row at a time: two overlapping senders never both send a row, and one bad row never holds
back or re-sends the others. Delivery is still at least once in one corner: if the process
dies, or the database fails, between the SMTP server's "250 OK" and the commit marking the
row sent, the row is retried. Its Message-ID is the same on every attempt, so mail systems
can drop such a duplicate.
"""

import datetime
import logging
import smtplib
from dataclasses import dataclass
from email import policy
from email.message import MIMEPart
from email.utils import parseaddr

import flask_mail
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import OutboxAttachment, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

MAX_RECIPIENT_CHARS = 320
MAX_SUBJECT_CHARS = 255
MAX_BODY_BYTES = 65535  # a TEXT column on MariaDB, in UTF-8 bytes; SQLite would take more
MAX_ERROR_CHARS = 500

RETRY_BASE_SECONDS = 30  # after the n-th failed attempt: 30 s × 2^(n-1) ...
RETRY_MAX_SECONDS = 3600  # ... but never more than an hour
# How long a claimed row is left alone while it is being sent: every SMTP step (connect,
# EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the body) may take up to MAIL_TIMEOUT.
IN_FLIGHT_TIMEOUTS = 10

_outbox = OutboxMessage.__table__


class MailError(ValueError):
    """A mail that cannot be queued as given; `field` names the argument at fault."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


# Queueing


def enqueue_mail(session, recipient, subject, body_text, body_html=None, attachments=()):
    """Queue one mail in the caller's transaction and return its row; nothing is committed.
    ``attachments``: (file name, content type, bytes), checked by the caller.

    Raises MailError, before touching the session, for an invalid recipient address, a
    blank subject or one with a line break, or a subject or body over its length limit.
    """
    now = utcnow()
    message = OutboxMessage(
        recipient=_checked_recipient(recipient),
        subject=_checked_subject(subject),
        body_text=_checked_body("body_text", body_text),
        body_html=None if body_html is None else _checked_body("body_html", body_html),
        status=OutboxStatus.pending,
        attempts=0,
        created_on=now,
        next_attempt_at=now,
        attachments=[OutboxAttachment(filename=name[:255], content_type=content_type[:127],
                                      data=data) for name, content_type, data in attachments],
    )
    session.add(message)
    return message


def _checked_recipient(recipient):
    if not isinstance(recipient, str):
        raise MailError("recipient", f"The recipient must be an email address, not {recipient!r}.")
    try:
        # Syntax only: whether the domain takes mail is the relay's business, and a DNS lookup
        # inside the caller's transaction would hold it open. test_environment lets the
        # reserved .test domain through (the test trees use it; no relay delivers there).
        # No SMTPUTF8: Flask-Mail cannot put a non-ASCII local part on the envelope.
        checked = validate_email(recipient, check_deliverability=False,
                                 test_environment=True, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise MailError("recipient", f"Not a valid email address: {recipient!r}: {error}") \
            from error
    address = checked.ascii_email  # an internationalized domain as sent: IDNA (xn--...)
    if len(address) > MAX_RECIPIENT_CHARS:
        raise MailError("recipient", f"The recipient is longer than {MAX_RECIPIENT_CHARS} "
                                     "characters.")
    return address


def _checked_subject(subject):
    if not isinstance(subject, str) or not subject.strip():
        raise MailError("subject", "A mail needs a subject.")
    if "\n" in subject or "\r" in subject:
        raise MailError("subject", "The subject must be one line.")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise MailError("subject", f"The subject is {len(subject)} characters long; the "
                                   f"limit is {MAX_SUBJECT_CHARS}.")
    return subject


def _checked_body(field, body):
    if not isinstance(body, str):
        raise MailError(field, f"The {field} must be text, not {type(body).__name__}.")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise MailError(field, f"The {field} is {size} bytes in UTF-8; the limit is "
                               f"{MAX_BODY_BYTES}.")
    return body


# Sending


@dataclass
class OutboxRun:
    """What one send_due_mail() call did."""

    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for the last time
    skipped: int = 0  # claimed by another sender first


def send_outbox_job():
    """The scheduled job (registered in app/core/jobs.py): send what is due with this app's mail."""
    return send_due_mail(db.session, current_app._get_current_object())


def send_due_mail(session, mailer_or_app, now=None, batch=100):
    """Send up to `batch` pending messages due at `now` (naive UTC); return an OutboxRun.

    `mailer_or_app` is the Flask app, the `mail` extension or a Flask-Mail state; run inside
    an app context. The session is committed once per message, so pass one with no pending
    work. `now` is the run's clock for deciding what is due, backoff and sent_at.
    """
    app, state = _resolve_mailer(mailer_or_app)
    now = now or utcnow()
    timeout = app.config["MAIL_TIMEOUT"]
    max_attempts = app.config["MAIL_MAX_ATTEMPTS"]
    run = OutboxRun()
    with _Sender(state, timeout) as sender:
        for row in _due_rows(session, now, batch):
            if not _claim(session, row, now, timeout):
                run.skipped += 1
                continue
            attempt = row.attempts + 1
            try:
                sender.send(_smtp_message(session, row, state.default_sender))
            except Exception as error:  # whatever broke this message is this message's failure
                if _record_failure(session, row.id, attempt, error, now, max_attempts):
                    run.failed += 1
                else:
                    run.retrying += 1
            else:
                _mark_sent(session, row.id, now)
                run.sent += 1
    if run.retrying or run.failed:
        log.warning("mail outbox: %s sent, %s to retry, %s failed for good (%s)", run.sent,
                    run.retrying, run.failed, sender.last_error)
    return run


def retry_delay(attempts):
    """How long to wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min … 1 h."""
    return datetime.timedelta(
        seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def _resolve_mailer(mailer_or_app):
    if isinstance(mailer_or_app, Flask):
        return mailer_or_app, mailer_or_app.extensions["mail"]
    app = current_app._get_current_object()
    # The `mail` singleton bound by init_app() keeps no state of its own: the app has it.
    state = getattr(mailer_or_app, "state", mailer_or_app)
    return app, state or app.extensions["mail"]


def _due_rows(session, now, batch):
    rows = session.execute(
        select(_outbox.c.id, _outbox.c.attempts, _outbox.c.created_on, _outbox.c.recipient,
               _outbox.c.subject, _outbox.c.body_text, _outbox.c.body_html)
        .where(_outbox.c.status == OutboxStatus.pending, _outbox.c.next_attempt_at <= now)
        .order_by(_outbox.c.next_attempt_at, _outbox.c.id)
        .limit(batch)
    ).all()
    session.rollback()  # end the read: a REPEATABLE READ snapshot must not outlive it
    return rows


# The transitions: the only code that writes status, attempts and next_attempt_at after
# enqueue_mail(). Each commits, so a row's state is never lost with a later failure.


def _claim(session, row, now, timeout):
    """Count the attempt and keep other senders off the row while it is in flight.

    The UPDATE matches only if nobody counted an attempt since we read the row, so of two
    senders that read it, one claims it. Should this process die mid-send, the row comes
    due again when the in-flight time is over.
    """
    in_flight = max(retry_delay(row.attempts + 1),
                    datetime.timedelta(seconds=IN_FLIGHT_TIMEOUTS * timeout))
    # From the later of the run's clock and the real one: a long run is past its start time.
    claimed_at = max(now, utcnow())
    claimed = session.execute(
        update(_outbox)
        .where(_outbox.c.id == row.id, _outbox.c.status == OutboxStatus.pending,
               _outbox.c.attempts == row.attempts)
        .values(attempts=row.attempts + 1, next_attempt_at=claimed_at + in_flight)
    ).rowcount
    session.commit()
    return claimed == 1


def _mark_sent(session, message_id, now):
    session.execute(
        update(_outbox).where(_outbox.c.id == message_id)
        .values(status=OutboxStatus.sent, sent_at=now, last_error=None)
    )
    session.commit()


def _record_failure(session, message_id, attempt, error, now, max_attempts):
    """Retry later with backoff, or give up after max_attempts; True when given up."""
    text = f"{type(error).__name__}: {_smtp_answer(error)}"[:MAX_ERROR_CHARS]
    given_up = attempt >= max_attempts or is_permanent(error)
    values = {"last_error": text}
    if given_up:
        values["status"] = OutboxStatus.failed
        log.error("mail %s failed for good after %s attempts: %s", message_id, attempt, text)
    else:
        values["next_attempt_at"] = now + retry_delay(attempt)
        log.info("mail %s attempt %s failed, retrying: %s", message_id, attempt, text)
    session.execute(
        update(_outbox).where(_outbox.c.id == message_id, _outbox.c.attempts == attempt)
        .values(**values)
    )
    session.commit()
    return given_up


def _text(message):
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def _smtp_answer(error):
    """The server's answer as it said it ("550 5.1.1 No such user"), for a person to read."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}"
                         for rcpt, (code, msg) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error)


def is_permanent(error):
    """An SMTP 5xx answer about this message: trying again cannot help. A 4xx answer, a
    broken or refused connection (the relay's trouble, not the message's) is retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return (isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError))
            and error.smtp_code >= 500)


def resend(session, message_id, now=None):
    """A failed message goes back into the queue for a new round of attempts (its last
    error stays until then). True when it was failed; the caller commits."""
    return session.execute(
        update(_outbox).where(_outbox.c.id == message_id,
                              _outbox.c.status == OutboxStatus.failed)
        .values(status=OutboxStatus.pending, attempts=0, next_attempt_at=now or utcnow())
    ).rowcount == 1


# SMTP


def _smtp_message(session, row, sender):
    message = _SafeBodyMessage(subject=row.subject, recipients=[row.recipient],
                               body=row.body_text, html=row.body_html, sender=sender)
    message.msgId = _message_id(row, sender)
    table = OutboxAttachment.__table__
    for name, content_type, data in session.execute(
            select(table.c.filename, table.c.content_type, table.c.data)
            .where(table.c.message_id == row.id).order_by(table.c.id)):
        message.attach(name, content_type, data)
    session.rollback()  # end the read, as _due_rows does
    return message


class _SafeBodyMessage(flask_mail.Message):
    """Flask-Mail's message with bodies any SMTP server takes.

    Flask-Mail sends UTF-8 text as raw 8-bit lines of any length, and SMTP refuses lines over
    998 bytes: one minified HTML mail would be refused on every attempt. The standard
    library's set_content() picks 7bit, 8bit, quoted-printable or base64 by content and line
    length, as mail clients do.
    """

    def _mimetext(self, text, subtype="plain"):
        part = MIMEPart(policy=policy.SMTP)
        part.set_content(text or "", subtype=subtype, charset=self.charset or "utf-8")
        return part

    def _message(self):
        # Flask-Mail folds a long non-ASCII subject with line breaks (Header.encode()), which
        # the SMTP policy of a lone text part refuses: every longer Chinese subject failed.
        # The part gets the subject as text instead, and its policy encodes and folds it.
        subject, self.subject = self.subject, "-"
        try:
            message = super()._message()
        finally:
            self.subject = subject
        del message["Subject"]
        if message.policy is policy.SMTP:
            message["Subject"] = subject
        else:  # a multipart root (compat32) takes Flask-Mail's own encoding
            message["Subject"] = flask_mail.sanitize_subject(subject, self.charset or "utf-8")
        if "MIME-Version" not in message:  # a multipart root has one; a lone text part not
            message["MIME-Version"] = "1.0"
        return message


def _message_id(row, sender):
    # The same on every attempt (see the module docstring). The domain is the sender's, not
    # this host's: make_msgid() would look up the host's FQDN, which can stall on DNS.
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or "localhost"
    return f"<outbox.{row.id}.{row.created_on:%Y%m%d%H%M%S}@{domain}>"


# Errors about one message; the connection stays usable (smtplib resets the transaction).
_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                   smtplib.SMTPDataError, flask_mail.BadHeaderError, AssertionError)


class MailConnectError(OSError):
    """No SMTP session could be opened (relay down, unreachable, or refusing our login)."""


class _Sender:
    """One SMTP connection for a run, opened on the first message.

    If no session can be opened, every later message of the run fails at once with the same
    error instead of waiting MAIL_TIMEOUT again; a connection that breaks mid-run is
    reopened once for the next message.
    """

    def __init__(self, state, timeout):
        self.state = state
        self.timeout = timeout
        self.connection = None
        self.unreachable = None
        self.last_error = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self._close()

    def send(self, message):
        try:
            self._send(message)
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}"
            raise

    def _send(self, message):
        if self.unreachable is not None:
            raise MailConnectError(self.unreachable)
        if self.connection is None:
            try:
                self.connection = _TimedConnection(self.state, self.timeout).__enter__()
            except Exception as error:
                self.unreachable = (f"{self.state.server}:{self.state.port}: "
                                    f"{type(error).__name__}: {error}")
                raise MailConnectError(self.unreachable) from error
        try:
            self.connection.send(message)
        except _MESSAGE_ERRORS:
            raise
        except Exception:
            self._close()  # the connection is in an unknown state: reopen for the next one
            raise

    def _close(self):
        connection, self.connection = self.connection, None
        if connection is None or connection.host is None:
            return
        try:
            connection.host.quit()
        except (OSError, smtplib.SMTPException):  # already gone
            connection.host.close()


class _TimedConnection(flask_mail.Connection):
    """Flask-Mail's connection with a timeout: its own would wait forever on a dead relay,
    and with it the scheduler's every job."""

    def __init__(self, state, timeout):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        mail = self.mail
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = smtp_class(mail.server, mail.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(mail.debug))
            if mail.use_tls:
                host.starttls()
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host
