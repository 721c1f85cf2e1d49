"""Sub accounts (spec chapter 9): who may manage them, which features (roles) and data
(channels, enterprises) they may be given, and what creating, changing, resetting and
deleting one does. Plain functions over a session; nothing here commits.

A sub-account belongs to its master's channel (Account.channel_id) and sees what its grants
(AccountGrant) reach, through app/core/scope.py. Its roles and grants are read on every
request, and a deleted one's sessions end, so every change applies at its next request.
"""

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import delete, select, update

from app.accounts import roles
from app.accounts.rules import _N, AccountError, force_password_change
from app.accounts.security import _names_of
from app.accounts.sessions import end_sessions
from app.core import scope
from app.core.mail import MailError, enqueue_mail
from app.core.passwords import hash_password
from app.models import (
    Account,
    AccountGrant,
    AccountKind,
    Channel,
    ChannelClosure,
    Enterprise,
)
from app.tenancy import master_accounts

# The roles a master account may hand out, in the order the form shows them; each only if
# the creator holds every permission in it.
SUB_ACCOUNT_ROLES = (roles.CHANNEL_FINANCE, roles.CHANNEL_DEVICE_OPERATOR, roles.CHANNEL_ADMIN)


class SubAccountError(AccountError):
    """Refused; ``template`` % ``params`` is the message (translated by the view)."""


NOT_YOURS = _N("Only the channel's master account manages its sub accounts.")
NO_ROLE = _N("Choose at least one feature.")
ROLE_REFUSED = _N("You cannot give a feature you do not hold yourself.")
NO_DATA = _N("Choose at least one enterprise or sub-channel.")
DATA_REFUSED = _N("You can only give enterprises and sub-channels of your own channel.")
BAD_TARGET = _N("Unknown data permission %(value)s.")
NO_CHANNEL = _N("Choose the channel the sub account belongs to.")


def may_manage_sub_accounts(principal) -> bool:
    return principal.is_admin or principal.kind == AccountKind.channel_master


def check_may_manage(principal):
    if not may_manage_sub_accounts(principal):
        raise SubAccountError(NOT_YOURS)


# --- features -----------------------------------------------------------------------------


def _pairs_of_roles(session, role_ids):
    if not role_ids:
        return frozenset()
    return frozenset(session.execute(_names_of(list(role_ids))).tuples())


def holder_permissions(session, principal, channel_id=None):
    """(permission, view) pairs the principal holds, or None for everything (the admin).
    The admin managing a channel's sub accounts holds what that channel's master account
    does: a sub-account never gets more than its own channel's master."""
    if principal.is_admin:
        if channel_id is None:
            return None
        masters = session.execute(select(Account).where(
            Account.kind == AccountKind.channel_master, Account.channel_id == channel_id)
        ).scalars().all()
        return _pairs_of_roles(session, [r.id for m in masters for r in m.roles])
    account = session.get(Account, principal.account_id)
    return _pairs_of_roles(session, [r.id for r in account.roles]) if account else frozenset()


def assignable_roles(session, principal, channel_id=None):
    """The sub-account roles whose every permission the principal holds (the admin: the
    master of ``channel_id``, the sub-account's channel)."""
    held = holder_permissions(session, principal, channel_id)
    found = {r.name: r for r in session.execute(
        select(Role).where(Role.name.in_(SUB_ACCOUNT_ROLES))).scalars()}
    out = []
    for name in SUB_ACCOUNT_ROLES:
        role = found.get(name)
        if role is not None and (held is None or _pairs_of_roles(session, [role.id]) <= held):
            out.append(role)
    return out


def chosen_roles(session, principal, role_ids, channel_id=None):
    """The roles for ids from a form: each must be assignable, at least one."""
    ids = {scope.parse_pk(v) for v in role_ids}
    if not ids:
        raise SubAccountError(NO_ROLE)
    allowed = {r.id: r for r in assignable_roles(session, principal, channel_id)}
    if None in ids or not ids <= set(allowed):
        raise SubAccountError(ROLE_REFUSED)
    return [allowed[i] for i in sorted(ids)]


# --- data permission ------------------------------------------------------------------------


def grant_tree(session, owner_channel_id):
    """The data-permission choices as a tree, in display order: [(kind, row, depth)] with
    kind "c" (a sub-channel) or "e" (an enterprise); each channel's enterprises and then its
    sub-channels follow it, by name; the owner's own enterprises come first (depth 0)."""
    channels = grant_channels(session, owner_channel_id)
    children = {}
    for channel, _depth in channels:
        children.setdefault(channel.parent_id, []).append(channel)
    enterprises = {}
    for enterprise in grant_enterprises(session, owner_channel_id):
        enterprises.setdefault(enterprise.channel_id, []).append(enterprise)
    out = []

    def walk(channel_id, depth):
        out.extend(("e", e, depth) for e in enterprises.get(channel_id, []))
        for child in sorted(children.get(channel_id, []), key=lambda c: c.name):
            out.append(("c", child, depth))
            walk(child.id, depth + 1)

    walk(owner_channel_id, 0)
    return out


def grant_channels(session, owner_channel_id):
    """(channel, depth) of every sub-channel below the owner, in tree order by name."""
    rows = session.execute(
        select(Channel, ChannelClosure.depth)
        .join(ChannelClosure, ChannelClosure.descendant_id == Channel.id)
        .where(ChannelClosure.ancestor_id == owner_channel_id, ChannelClosure.depth >= 1)
        .order_by(ChannelClosure.depth, Channel.name)).all()
    return [(c, d) for c, d in rows]


def grant_enterprises(session, owner_channel_id):
    """Every enterprise of the owner's subtree (its own included), by name."""
    subtree = select(ChannelClosure.descendant_id).where(
        ChannelClosure.ancestor_id == owner_channel_id)
    return session.execute(select(Enterprise).where(Enterprise.channel_id.in_(subtree))
                           .order_by(Enterprise.name)).scalars().all()


def parse_targets(values):
    """Form values "c:<id>" / "e:<id>" to (channel ids, enterprise ids)."""
    channels, enterprises = set(), set()
    for value in values:
        kind, _, raw = str(value).partition(":")
        pk = scope.parse_pk(raw)
        if kind not in ("c", "e") or pk is None:
            raise SubAccountError(BAD_TARGET, value=str(value)[:40])
        (channels if kind == "c" else enterprises).add(pk)
    return channels, enterprises


def check_targets(session, owner_channel_id, channel_ids, enterprise_ids):
    """Every target inside the owner's subtree (sub-channels strictly below it)."""
    if not channel_ids and not enterprise_ids:
        raise SubAccountError(NO_DATA)
    cc = ChannelClosure
    if channel_ids:
        found = set(session.execute(select(cc.descendant_id).where(
            cc.ancestor_id == owner_channel_id, cc.depth >= 1,
            cc.descendant_id.in_(channel_ids))).scalars())
        if found != set(channel_ids):
            raise SubAccountError(DATA_REFUSED)
    if enterprise_ids:
        subtree = select(cc.descendant_id).where(cc.ancestor_id == owner_channel_id)
        found = set(session.execute(select(Enterprise.id).where(
            Enterprise.id.in_(enterprise_ids), Enterprise.channel_id.in_(subtree))).scalars())
        if found != set(enterprise_ids):
            raise SubAccountError(DATA_REFUSED)


def grants_of(session, account_id):
    """(channel ids, enterprise ids) granted to a sub-account."""
    rows = session.execute(select(AccountGrant.channel_id, AccountGrant.enterprise_id)
                           .where(AccountGrant.account_id == account_id)).all()
    return ({c for c, _ in rows if c is not None}, {e for _, e in rows if e is not None})


def _set_grants(session, account, channel_ids, enterprise_ids):
    session.execute(delete(AccountGrant).where(AccountGrant.account_id == account.id))
    session.add_all([AccountGrant(account_id=account.id, channel_id=c) for c in channel_ids]
                    + [AccountGrant(account_id=account.id, enterprise_id=e)
                       for e in enterprise_ids])


def describe_grants(session, account_id):
    """The names of what a sub-account may manage, channels first."""
    channels, enterprises = grants_of(session, account_id)
    names = []
    if channels:
        names += session.execute(select(Channel.name).where(Channel.id.in_(channels))
                                 .order_by(Channel.name)).scalars().all()
    if enterprises:
        names += session.execute(select(Enterprise.name).where(Enterprise.id.in_(enterprises))
                                 .order_by(Enterprise.name)).scalars().all()
    return names


# --- the account ------------------------------------------------------------------------------


def owner_channel_id(principal, account=None):
    """The channel whose subtree bounds the data permission: the master's own, or (the admin
    editing) the sub-account's."""
    if account is not None:
        return account.channel_id
    return principal.channel_id


def channel_for_new_sub_account(session, principal, channel_id=None):
    """The channel a new sub-account belongs to: a master's own (whatever a form says); the
    platform admin's choice, any existing channel (spec chapter 9: a sub account logs into
    YMCS for channel, so the admin's are channels' too, made for them)."""
    if principal.kind == AccountKind.channel_master:
        return principal.channel_id
    if not principal.is_admin:
        raise SubAccountError(NOT_YOURS)
    pk = scope.parse_pk(channel_id)
    if pk is None or session.get(Channel, pk) is None:
        raise SubAccountError(NO_CHANNEL)
    return pk


def check_manageable(principal, account):
    """A sub-account the principal manages; anything else (its master, itself, a sibling's
    master, another tree's) is out of scope."""
    check_may_manage(principal)
    if (account is None or account.kind != AccountKind.channel_sub
            or account.id == principal.account_id
            or (not principal.is_admin and account.channel_id != principal.channel_id)):
        raise scope.OutOfScope("sub account")


def _mail(session, address, subject, body):
    try:
        enqueue_mail(session, address, subject, body)
    except MailError as error:
        raise SubAccountError(_N("Cannot mail %(email)s: %(why)s"), email=address,
                              why=str(error)) from error


def create_sub_account(session, principal, *, email, first_name, last_name, phone, language,
                       role_ids, targets, login_url, channel_id=None):
    """A new sub-account of the master's channel (the admin: of ``channel_id``) with a
    temporary password mailed to it (it must choose its own at the first sign-in). Returns
    the account; the caller commits."""
    owner = channel_for_new_sub_account(session, principal, channel_id)
    chosen = chosen_roles(session, principal, role_ids, owner)
    channel_ids, enterprise_ids = parse_targets(targets)
    check_targets(session, owner, channel_ids, enterprise_ids)
    email = master_accounts.normalized_email(email)
    try:
        master_accounts.check_email_free(session, email)
    except master_accounts.EmailTaken as error:
        raise SubAccountError(master_accounts.EMAIL_REFUSED) from error
    password = master_accounts.temporary_password()
    account = Account(username=email, email=email, first_name=first_name[:64],
                      last_name=(last_name or "")[:64], phone=phone or None,
                      language=language or "en", active=True, kind=AccountKind.channel_sub,
                      channel_id=owner, password=hash_password(password),
                      roles=chosen)
    force_password_change(account)
    session.add(account)
    session.flush()
    _set_grants(session, account, channel_ids, enterprise_ids)
    channel = session.get(Channel, owner)
    _mail(session, email, "YMCS: your account",
          f"Hello,\n\nA sub account on YMCS was created for you by {channel.name}.\n\n"
          f"Login address: {login_url}\nAccount: {email}\nTemporary password: {password}\n\n"
          "You will be asked to choose your own password when you sign in.\n")
    return account


def update_sub_account(session, principal, account, *, first_name, last_name, phone,
                       language, role_ids, targets):
    """New account information, features and data permission: all checked before anything
    changes; they apply at the account's next request."""
    check_manageable(principal, account)
    chosen = chosen_roles(session, principal, role_ids, account.channel_id)
    channel_ids, enterprise_ids = parse_targets(targets)
    check_targets(session, owner_channel_id(principal, account), channel_ids, enterprise_ids)
    account.first_name = first_name[:64]
    account.last_name = (last_name or "")[:64]
    account.phone = phone or None
    account.language = language or account.language
    account.roles = chosen
    _set_grants(session, account, channel_ids, enterprise_ids)


def delete_sub_accounts(session, principal, accounts):
    """Delete sub-accounts (all or none), ending their sessions with it."""
    for account in accounts:
        check_manageable(principal, account)
    ids = [a.id for a in accounts]
    if not ids:
        return 0
    end_sessions(session, ids)
    session.execute(delete(AccountGrant).where(AccountGrant.account_id.in_(ids)))
    # Accounts it created or changed keep existing: forget who did it.
    session.execute(update(Account).where(Account.created_by_fk.in_(ids))
                    .values(created_by_fk=None))
    session.execute(update(Account).where(Account.changed_by_fk.in_(ids))
                    .values(changed_by_fk=None))
    for account in accounts:
        session.delete(account)
    return len(ids)


def reset_sub_account_password(session, principal, account, login_url):
    """A new temporary password mailed to the sub-account; its sessions end."""
    check_manageable(principal, account)
    master_accounts.reset_master_password(session, account, login_url)
