"""The master accounts of channels and enterprises: created with their tenant, told by mail,
reset by their channel, and their registered email kept unique across all accounts.

Plain functions over a session; nothing here commits — the tenant and its account, and the
mail about them, are saved in the caller's one transaction.
"""

import secrets
import string

from sqlalchemy import func, or_, select

from app.accounts import roles
from app.accounts.rules import _N, credentials_changed, force_password_change
from app.core.mail import MailError, enqueue_mail
from app.core.passwords import hash_password
from app.models import Account, AccountKind, Channel, Enterprise, PermissionType
from app.tenancy.rules import TenantError

# A registered email is a login, unique on the whole platform; the refusal does not say so,
# and reads like the one for a malformed address, so a channel is not told that an address
# is in use in another tree (the platform administrator's screens say it: it sees all).
EMAIL_REFUSED = _N("This email address cannot be used. Enter another one.")
EMAIL_TAKEN_PRECISE = _N("The email %(email)s is already registered.")


class EmailTaken(TenantError):
    field = "email"  # a form shows it at the email field (app/core/crud.py)


class LoginOwned(TenantError):
    field = "email"


LOGIN_OWNED = _N("The administrator of %(name)s has signed in, so its login belongs to it now "
                 "and cannot be moved to another address. Use Reset password to mail a new "
                 "password to %(email)s.")


def normalized_email(email):
    return (email or "").strip().lower()


def check_email_free(session, email, account=None, enterprise=None, channel=None):
    """Refuse an email that another account, enterprise or channel already registered; the
    tenant being edited and its own master account do not count."""
    email = normalized_email(email)
    # no_autoflush: the tenant being added is half-built; flushing it now would be premature.
    with session.no_autoflush:
        taken = _email_taken(session, email, account, enterprise, channel)
    if taken:
        raise EmailTaken(EMAIL_REFUSED, email=email)


def _email_taken(session, email, account, enterprise, channel):
    return session.execute(select(Account.id).where(
        or_(func.lower(Account.username) == email, func.lower(Account.email) == email),
        Account.id != (account.id if account is not None and account.id else -1),
    ).limit(1)).first() or session.execute(select(Enterprise.id).where(
        func.lower(Enterprise.email) == email,
        Enterprise.id != (enterprise.id if enterprise is not None and enterprise.id else -1),
    ).limit(1)).first() or session.execute(select(Channel.id).where(
        func.lower(Channel.email) == email,
        Channel.id != (channel.id if channel is not None and channel.id else -1),
    ).limit(1)).first()


def temporary_password():
    """Twelve characters with letters and digits: passes the policy, changed at first login."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def master_account(session, tenant):
    """The administrator account of a channel or an enterprise (the oldest), or None."""
    if tenant.id is None:
        return None
    if isinstance(tenant, Enterprise):
        where = (Account.enterprise_id == tenant.id, Account.kind == AccountKind.enterprise)
    else:
        where = (Account.channel_id == tenant.id, Account.kind == AccountKind.channel_master)
    return session.execute(select(Account).where(*where).order_by(Account.id).limit(1)).scalar()


def _role(session, name):
    from flask_appbuilder.security.sqla.models import Role

    role = session.execute(select(Role).where(Role.name == name)).scalar()
    if role is None:
        raise TenantError(_N("The role %(role)s is missing: run `flask ymcs init`."), role=name)
    return role


def _mail_password(session, account, subject, opening, login_url, password):
    """The mail carrying a temporary password, queued in the caller's transaction; an
    enterprise's is marked as its account mail (the channel's "Account Mail" column)."""
    try:
        message = enqueue_mail(
            session, account.email, subject,
            f"Hello,\n\n{opening}\n\nLogin address: {login_url}\nAccount: {account.email}\n"
            f"Temporary password: {password}\n\n"
            "You will be asked to choose your own password when you sign in.\n")
    except MailError as error:
        raise TenantError(_N("Cannot mail %(email)s: %(why)s"), email=account.email,
                          why=str(error)) from error
    message.enterprise = account.enterprise


def create_master_account(session, email, tenant, login_url):
    """The administrator account of a new channel or enterprise (registered email = login),
    with a temporary password mailed to it. Returns the account; the caller commits."""
    if isinstance(tenant, Enterprise):
        kind = AccountKind.enterprise
        role = (roles.RPS_ENTERPRISE_ADMIN if tenant.permission_type == PermissionType.rps
                else roles.ENTERPRISE_ADMIN)
        where = {"enterprise": tenant}
    else:
        kind, role, where = AccountKind.channel_master, roles.CHANNEL_ADMIN, {"channel": tenant}
    email = normalized_email(email)
    check_email_free(session, email, enterprise=where.get("enterprise"),
                     channel=where.get("channel"))
    with session.no_autoflush:  # the tenant is still half-built: FAB adds it after this
        role = _role(session, role)
    password = temporary_password()
    account = Account(username=email, email=email, first_name=tenant.name[:64],
                      last_name="Admin", active=True, kind=kind,
                      password=hash_password(password),
                      roles=[role], **where)
    force_password_change(account)
    session.add(account)
    _mail_password(session, account, "YMCS: your account",
                   f"An account on YMCS was created for {tenant.name}.", login_url, password)
    return account


def reset_master_password(session, account, login_url):
    """A new temporary password, mailed; the owner must change it at the next sign-in."""
    password = temporary_password()
    account.password = hash_password(password)
    force_password_change(account)
    credentials_changed(session, account)  # this mail, to the current address, tells it
    _mail_password(session, account, "YMCS: your password was reset",
                   f"The password of {account.email} on YMCS was reset by your channel.",
                   login_url, password)


def check_login_changeable(tenant, master, new_email):
    """Once its administrator has signed in, a tenant's login belongs to it: the channel above
    may mail a password reset to the registered email, never move the login elsewhere (it
    would then reset the password to its own mailbox and sign in as the tenant)."""
    if (master is not None and master.last_login is not None
            and normalized_email(new_email) != normalized_email(master.email)):
        raise LoginOwned(LOGIN_OWNED, name=tenant.name, email=master.email)


def change_registered_email(session, tenant, master, new_email):
    """Edit of the registered email: unique across all accounts, and the master account's
    login follows it while nobody has signed in with it; both addresses are told."""
    new_email = normalized_email(new_email)
    check_login_changeable(tenant, master, new_email)
    is_enterprise = isinstance(tenant, Enterprise)
    check_email_free(session, new_email, account=master,
                     enterprise=tenant if is_enterprise else None,
                     channel=None if is_enterprise else tenant)
    tenant.email = new_email
    if master is not None and normalized_email(master.email) != new_email:
        old_email = master.email
        master.username = master.email = new_email
        credentials_changed(session, master)  # reset links mailed to the old address die
        for address in (old_email, new_email):
            _mail_notice(session, address, "YMCS: your login changed",
                         f"Hello,\n\nThe login of {tenant.name} on YMCS was changed from "
                         f"{old_email} to {new_email} by your channel.\n\nIf you did not "
                         "expect this, contact your channel at once.\n")


def _mail_notice(session, address, subject, body):
    try:
        enqueue_mail(session, address, subject, body)
    except MailError as error:
        raise TenantError(_N("Cannot mail %(email)s: %(why)s"), email=address,
                          why=str(error)) from error
