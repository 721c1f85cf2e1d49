"""Rules about accounts: signing in, lockout, frozen tenants, passwords and reset links.

Plain functions over a session; no Flask request objects. Each raises a typed error whose
message is fit to show the user.
"""

import datetime
import hashlib
import math
import re
import secrets

from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .models import Account, AccountKind, PasswordResetToken, Status, utcnow

MAX_FAILED_LOGINS = 10
LOCK_MINUTES = 5
RESET_LINK_MINUTES = 10
PASSWORD_MIN, PASSWORD_MAX = 8, 64
_FAKE_HASH = generate_password_hash("not-a-real-password")


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


def _locked(remaining):
    remaining = max(math.ceil(remaining), 1)  # MariaDB keeps whole seconds
    minutes, seconds = divmod(remaining, 60)
    return LoginRefused(
        _N("Too many wrong passwords: this account is locked for %(lock)s minutes. "
           "Try again in %(minutes)s min %(seconds)s s."),
        remaining, lock=LOCK_MINUTES, minutes=minutes, seconds=f"{seconds:02d}")


def authenticate(session, email, password, now=None):
    """The account for this email and password, or LoginRefused. Commits the counters:
    failures must be remembered by every process even though the login is refused."""
    now = now or utcnow()
    account = find_account(session, email)
    if account is None or not password or len(password) > 256:
        check_password_hash(_FAKE_HASH, password or "x")  # same cost as a real check
        raise LoginRefused(INVALID_LOGIN)
    if account.locked_until and account.locked_until > now:
        raise _locked((account.locked_until - now).total_seconds())
    if not check_password_hash(account.password or _FAKE_HASH, password):
        _record_failure(session, account, now)
    if is_frozen(account):
        raise LoginRefused(FROZEN)
    account.fail_login_count = 0
    account.locked_until = None
    account.login_count = (account.login_count or 0) + 1
    account.last_login = now
    session.commit()
    return account


def _record_failure(session, account, now):
    # One UPDATE, so concurrent failures in several processes all count.
    session.execute(update(Account).where(Account.id == account.id).values(
        fail_login_count=func.coalesce(Account.fail_login_count, 0) + 1))
    session.refresh(account)
    if account.fail_login_count >= MAX_FAILED_LOGINS:
        account.fail_login_count = 0
        account.locked_until = now.replace(microsecond=0) + datetime.timedelta(
            minutes=LOCK_MINUTES)
        session.commit()
        raise _locked(LOCK_MINUTES * 60)
    session.commit()
    raise LoginRefused(INVALID_LOGIN)


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
    account.password = generate_password_hash(new)
    account.must_change_password = False


def change_password(session, account, old, new, repeated):
    """The user's own change: the old password proves it is them."""
    if not old or not check_password_hash(account.password or _FAKE_HASH, old):
        raise PasswordPolicyError(_N("The old password is wrong."))
    if old == new:
        raise PasswordPolicyError(_N("The new password must differ from the old one."))
    set_password(account, new, repeated)
    session.commit()


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
    account.fail_login_count = 0
    account.locked_until = None
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
    from .mail import enqueue_mail

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
