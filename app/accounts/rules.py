"""Rules about accounts: signing in, lockout, frozen tenants, passwords and reset links.

Lockout (OWASP ASVS 2.2): failures are counted per (email, client address) in the database,
for unknown emails exactly as for registered ones, so the answers never tell them apart.
MAX_FAILED_LOGINS failures from one address lock that address out of that email for
LOCK_MINUTES (each later lock of the same address twice as long, up to MAX_LOCK_MINUTES): an
attacker slows only themself, and the owner signs in from elsewhere. Only
EMAIL_MAX_FAILED_LOGINS failures within EMAIL_WINDOW_MINUTES, which takes many addresses,
lock the email for everyone, for EMAIL_LOCK_MINUTES.

Plain functions over a session; no Flask request objects. Each raises a typed error whose
message is fit to show the user.
"""

import datetime
import hashlib
import logging
import math
import re
import secrets

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.sessions import end_sessions
from app.core.passwords import check_password, hash_password
from app.models import Account, AccountKind, LoginThrottle, PasswordResetToken, Status, utcnow

MAX_FAILED_LOGINS = 10  # per (email, client address)
LOCK_MINUTES = 5  # the first lock of an address; each next one doubles
MAX_LOCK_MINUTES = 60
EMAIL_MAX_FAILED_LOGINS = 100  # per email from every address, within the window
EMAIL_WINDOW_MINUTES = 60
EMAIL_LOCK_MINUTES = 60
EVERY_ADDRESS = "*"  # the address of the row counting an email's failures from everywhere
THROTTLE_RETENTION = datetime.timedelta(days=1)  # idle throttle rows are then forgotten
RESET_LINK_MINUTES = 10
PASSWORD_MIN, PASSWORD_MAX = 8, 64
log = logging.getLogger(__name__)


def _N(message):
    """Marks a message for translation; views translate ``error.template`` % params."""
    return message


class AccountError(ValueError):
    """Refused. ``template`` and ``params`` make the message for the user (views translate
    the template); ``str(error)`` is the English message."""

    def __init__(self, template, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


class LoginRefused(AccountError):
    def __init__(self, template, remaining_seconds=None, **params):
        super().__init__(template, **params)
        self.remaining_seconds = remaining_seconds


class PasswordPolicyError(AccountError):
    pass


class ResetLinkError(AccountError):
    pass


INVALID_LOGIN = _N("Wrong email or password.")
FROZEN = _N("This account is frozen. Please contact your channel.")


def find_account(session, email):
    email = (email or "").strip()
    if not email or len(email) > 320:
        return None
    return session.execute(
        select(Account).where(or_(func.lower(Account.username) == email.lower(),
                                  func.lower(Account.email) == email.lower()))
    ).scalars().first()


def is_frozen(account) -> bool:
    """An account whose channel or enterprise is frozen, or that was deactivated."""
    if not account.active:
        return True
    if account.kind in (AccountKind.channel_master, AccountKind.channel_sub):
        return account.channel is not None and account.channel.status == Status.frozen
    if account.kind == AccountKind.enterprise:
        return account.enterprise is not None and account.enterprise.status == Status.frozen
    return False


def _locked(remaining, lock_minutes):
    remaining = max(math.ceil(remaining), 1)  # MariaDB keeps whole seconds
    minutes, seconds = divmod(remaining, 60)
    return LoginRefused(
        _N("Too many wrong passwords: this account is locked for %(lock)s minutes. "
           "Try again in %(minutes)s min %(seconds)s s."),
        remaining, lock=lock_minutes, minutes=minutes, seconds=f"{seconds:02d}")


def _email_key(email):
    """What failures are counted under: any text typed as the email, registered or not."""
    return hashlib.sha256((email or "").strip().lower().encode("utf-8", "replace")).hexdigest()


def _lock_minutes(row):
    if row.address == EVERY_ADDRESS:
        return EMAIL_LOCK_MINUTES
    return min(LOCK_MINUTES * 2 ** max(row.locks - 1, 0), MAX_LOCK_MINUTES)


def authenticate(session, email, password, now=None, address=None):
    """The account for this email and password, or LoginRefused. ``address`` is the client's
    (request.remote_addr). Commits the counters: failures must be remembered by every
    process even though the login is refused."""
    now = now or utcnow()
    address = (address or "unknown")[:45]
    key = _email_key(email)
    rows = {row.address: row for row in session.execute(select(LoginThrottle).where(
        LoginThrottle.email_digest == key,
        LoginThrottle.address.in_((address, EVERY_ADDRESS)))).scalars()}
    for row in rows.values():
        if row.locked_until and row.locked_until > now:  # before any password is checked
            raise _locked((row.locked_until - now).total_seconds(), _lock_minutes(row))
    account = find_account(session, email)
    if account is None or not password or len(password) > 256:
        check_password(None, password)  # same cost as a real check
        raise _record_failure(session, key, address, now)
    if not check_password(account.password, password):
        raise _record_failure(session, key, address, now)
    if is_frozen(account):
        raise LoginRefused(FROZEN)
    if address in rows:  # the owner is back at this address: its count starts again
        session.execute(delete(LoginThrottle).where(LoginThrottle.id == rows[address].id))
    account.login_count = (account.login_count or 0) + 1
    account.last_login = now
    session.commit()
    return account


def _record_failure(session, key, address, now):
    """Count the failure for this address and for the email; the refusal it earns."""
    pair = _count_failure(session, key, address, now)
    everywhere = _count_failure(session, key, EVERY_ADDRESS, now,
                                window=datetime.timedelta(minutes=EMAIL_WINDOW_MINUTES))
    now = now.replace(microsecond=0)  # MariaDB keeps whole seconds
    for row, limit, minutes in (
            (everywhere, EMAIL_MAX_FAILED_LOGINS, EMAIL_LOCK_MINUTES),
            (pair, MAX_FAILED_LOGINS, min(LOCK_MINUTES * 2 ** pair.locks, MAX_LOCK_MINUTES))):
        if row.failures >= limit:
            # Conditional: of concurrent failures crossing the limit, one sets the lock.
            session.execute(update(LoginThrottle).where(
                LoginThrottle.id == row.id, LoginThrottle.failures >= limit).values(
                failures=0, locks=LoginThrottle.locks + 1, window_start=now,
                locked_until=now + datetime.timedelta(minutes=minutes)))
            session.commit()
            return _locked(minutes * 60, minutes)
    session.commit()
    return LoginRefused(INVALID_LOGIN)


def _count_failure(session, key, address, now, window=None):
    """One UPDATE adding the failure (so concurrent failures in several processes all count),
    or the row's first INSERT; ``window``: failures older than it no longer count."""
    row = LoginThrottle
    where = (row.email_digest == key, row.address == address)
    failures, start = row.failures + 1, row.window_start
    if window is not None:
        stale = row.window_start < now - window
        failures = case((stale, 1), else_=row.failures + 1)
        start = case((stale, now), else_=row.window_start)
    for _attempt in range(2):
        # In this order: MariaDB evaluates SET from left to right, with the new values.
        if session.execute(update(row).where(*where).ordered_values(
                (row.failures, failures), (row.window_start, start),
                (row.updated_on, now))).rowcount:
            break
        try:
            session.execute(insert(row).values(email_digest=key, address=address, failures=1,
                                               locks=0, window_start=now, updated_on=now))
            break
        except IntegrityError:  # another process inserted it first: count on its row
            session.rollback()
    session.commit()  # each count on its own: a rollback above must not undo the other one
    return session.execute(select(row).where(*where).execution_options(
        populate_existing=True)).scalar_one()


def prune_login_throttle(session, now=None):
    """Forget the failures of emails nobody tried for THROTTLE_RETENTION (locks included:
    they are much shorter)."""
    cutoff = (now or utcnow()) - THROTTLE_RETENTION
    deleted = session.execute(delete(LoginThrottle).where(
        LoginThrottle.updated_on < cutoff)).rowcount
    session.commit()
    return deleted


def check_password_policy(password, account=None):
    if not password or len(password) < PASSWORD_MIN:
        raise PasswordPolicyError(_N("The password needs at least %(n)s characters."),
                                  n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise PasswordPolicyError(_N("The password may have at most %(n)s characters."),
                                  n=PASSWORD_MAX)
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise PasswordPolicyError(_N("The password needs both letters and digits."))
    if account is not None and password.lower() == (account.email or "").lower():
        raise PasswordPolicyError(_N("The password may not be your email address."))


def set_password(account, new, repeated):
    if new != repeated:
        raise PasswordPolicyError(_N("The two new passwords differ."))
    check_password_policy(new, account)
    account.password = hash_password(new)
    account.must_change_password = False


def change_password(session, account, old, new, repeated, keep_session_id=None):
    """The user's own change: the old password proves it is them. The session that made it
    (``keep_session_id``) stays signed in; every other one ends."""
    if not old or not check_password(account.password, old):
        raise PasswordPolicyError(_N("The old password is wrong."))
    if old == new:
        raise PasswordPolicyError(_N("The new password must differ from the old one."))
    set_password(account, new, repeated)
    credentials_changed(session, account, "Your password was changed in Account Settings.",
                        keep_session_id=keep_session_id)
    session.commit()


def credentials_changed(session, account, notice=None, keep_session_id=None, now=None):
    """After the password or the login of an account changed, whoever changed it: older
    reset links stop working, every session of the account ends (but ``keep_session_id``),
    its failed sign-ins are forgotten, and ``notice`` is mailed to it. In the caller's
    transaction; the caller commits."""
    now = now or utcnow()
    session.execute(update(PasswordResetToken).where(
        PasswordResetToken.account_id == account.id,
        PasswordResetToken.used_on.is_(None)).values(used_on=now))
    end_sessions(session, [account.id], keep_session_id)
    session.execute(delete(LoginThrottle).where(LoginThrottle.email_digest.in_(
        [_email_key(account.username), _email_key(account.email)])))
    if notice:
        notify(session, account, notice)


def notify(session, account, notice):
    """Tell the account's own address what happened to its login (ASVS 2.2.3)."""
    from app.core.mail import MailError, enqueue_mail

    try:
        enqueue_mail(
            session, account.email, "YMCS: your sign-in details changed",
            f"Hello {account.first_name},\n\n{notice}\n\n"
            f"Account: {account.email}\n"
            "Sessions of this account open elsewhere have been signed out. If you did not "
            "expect this, contact your channel at once.\n")
    except MailError:  # an account without a usable address: the change stands
        log.warning("no notice mailed to account %s: no valid address", account.id)


def force_password_change(account):
    """After someone else set the password, the owner must choose a new one first."""
    account.must_change_password = True


# --- reset links ----------------------------------------------------------------------------

def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_token(session, account, now=None):
    """A single-use secret valid RESET_LINK_MINUTES; only its digest is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(
        account_id=account.id, token_digest=_digest(token), created_on=now,
        expires_at=now + datetime.timedelta(minutes=RESET_LINK_MINUTES)))
    return token


def reset_token_row(session, token, now=None):
    """The valid token row, or ResetLinkError saying what is wrong with the link."""
    now = now or utcnow()
    if not token or len(token) > 128:
        raise ResetLinkError(_N("This reset link is not valid."))
    row = session.execute(select(PasswordResetToken).where(
        PasswordResetToken.token_digest == _digest(token))).scalar_one_or_none()
    if row is None:
        raise ResetLinkError(_N("This reset link is not valid."))
    if row.used_on is not None:
        raise ResetLinkError(_N("This reset link has already been used. Ask for a new one."))
    if row.expires_at <= now:
        raise ResetLinkError(_N("This reset link has expired. Ask for a new one."))
    return row


def reset_password_with_token(session, token, new, repeated, now=None):
    now = now or utcnow()
    row = reset_token_row(session, token, now)
    # Claim the token in one UPDATE: of two simultaneous uses, only one wins.
    claimed = session.execute(update(PasswordResetToken).where(
        PasswordResetToken.id == row.id, PasswordResetToken.used_on.is_(None)
    ).values(used_on=now)).rowcount
    if claimed != 1:
        session.rollback()
        raise ResetLinkError(_N("This reset link has already been used. Ask for a new one."))
    account = session.get(Account, row.account_id)
    try:
        set_password(account, new, repeated)
    except PasswordPolicyError:
        session.rollback()  # the link stays usable for a better password
        raise
    credentials_changed(session, account, "Your password was changed with a reset link "
                        "mailed to this address.", now=now)
    session.commit()
    return account


def update_basic_info(session, account, first_name, last_name, phone, language):
    """Name, phone and language; the registered email is changed only by an administrator."""
    account.first_name = first_name.strip()
    account.last_name = last_name.strip()
    account.phone = (phone or "").strip() or None
    account.language = language
    session.commit()


def request_password_reset(session, email, link_for, now=None):
    """Mail a reset link if the email belongs to an account that may sign in. The caller
    answers the same either way, so nobody learns which emails are registered."""
    from app.core.mail import enqueue_mail

    account = find_account(session, email)
    if account is None or is_frozen(account):
        return
    token = issue_reset_token(session, account, now)
    enqueue_mail(
        session, account.email, "YMCS: reset your password",
        f"Hello {account.first_name},\n\n"
        f"Someone asked to reset the password of {account.email} on YMCS.\n"
        f"Open this link within {RESET_LINK_MINUTES} minutes to choose a new password:\n\n"
        f"{link_for(token)}\n\n"
        "The link works once. If you did not ask for it, ignore this mail.\n")
    session.commit()  # the token and its mail, in one transaction
