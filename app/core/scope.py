"""The ONE answer to "what may this principal see or touch".

Every view, bulk action, dropdown, REST endpoint, export, download and job that reads tenant
data narrows its query here. Pairs, as STYLE.md asks: ``visible_x(query, principal)`` narrows
a query; ``get_or_404(model, pk)`` fetches one row or answers 404.

- the platform administrator sees everything;
- a channel master account sees its channel, every descendant channel and their enterprises;
- a channel sub-account sees only the channels (with their subtrees) and enterprises granted
  to it;
- an enterprise account sees its own enterprise;
- a device of a device-management enterprise is visible to a channel only while the enterprise
  authorizes it; devices of RPS enterprises need no authorization.
"""

from dataclasses import dataclass

from flask import abort, g, has_request_context
from sqlalchemy import false, or_, select, true

from app.models import (
    Account,
    AccountGrant,
    AccountKind,
    Authorization,
    Channel,
    ChannelClosure,
    Device,
    Enterprise,
    OperationLog,
    Order,
    OutboxMessage,
    PermissionType,
    RpsDevice,
)


class OutOfScope(Exception):
    """Raised when a principal reaches for a row outside its scope."""


@dataclass(frozen=True)
class Principal:
    account_id: int | None
    kind: AccountKind | None
    channel_id: int | None = None
    enterprise_id: int | None = None

    @property
    def is_admin(self):
        return self.kind == AccountKind.platform

    @property
    def is_channel(self):
        return self.kind in (AccountKind.channel_master, AccountKind.channel_sub)


NOBODY = Principal(account_id=None, kind=None)


def principal_of(account) -> Principal:
    if account is None or not getattr(account, "is_authenticated", False):
        return NOBODY
    kind = account.kind
    if isinstance(kind, str):
        kind = AccountKind(kind)
    return Principal(account.id, kind, account.channel_id, account.enterprise_id)


def current_principal() -> Principal:
    """The principal of the current request (cached on ``g``); NOBODY outside a request."""
    if not has_request_context():
        return NOBODY
    acting = g.get("ymcs_acting")
    if acting is not None:  # a channel working inside an enterprise or sub-channel
        return acting.principal
    cached = getattr(g, "_ymcs_principal", None)
    if cached is None:
        from flask_login import current_user

        cached = principal_of(current_user._get_current_object())
        g._ymcs_principal = cached
    return cached


# --- building blocks -------------------------------------------------------------------------


def channel_ids(principal: Principal, include_self=True):
    """A SELECT of the channel ids the principal sees, or None when it sees them all."""
    if principal.is_admin:
        return None
    cc = ChannelClosure
    if principal.kind == AccountKind.channel_master:
        query = select(cc.descendant_id).where(cc.ancestor_id == principal.channel_id)
        if not include_self:
            query = query.where(cc.depth >= 1)
        return query
    if principal.kind == AccountKind.channel_sub:
        return (
            select(cc.descendant_id)
            .join(AccountGrant, AccountGrant.channel_id == cc.ancestor_id)
            .where(AccountGrant.account_id == principal.account_id)
        )
    return select(cc.descendant_id).where(false())


def _enterprise_condition(principal: Principal):
    """A WHERE clause on Enterprise, or None for no restriction."""
    if principal.is_admin:
        return None
    if principal.kind == AccountKind.enterprise:
        return Enterprise.id == principal.enterprise_id
    if principal.kind == AccountKind.channel_master:
        return Enterprise.channel_id.in_(channel_ids(principal))
    if principal.kind == AccountKind.channel_sub:
        granted = select(AccountGrant.enterprise_id).where(
            AccountGrant.account_id == principal.account_id,
            AccountGrant.enterprise_id.is_not(None),
        )
        return or_(
            Enterprise.channel_id.in_(channel_ids(principal)), Enterprise.id.in_(granted)
        )
    return false()


def enterprise_ids(principal: Principal):
    """A SELECT of the enterprise ids the principal sees, or None when it sees them all."""
    condition = _enterprise_condition(principal)
    return None if condition is None else select(Enterprise.id).where(condition)


def device_enterprise_ids(principal: Principal):
    """Enterprises whose devices the principal sees: for a channel, only authorizing ones."""
    condition = _enterprise_condition(principal)
    if condition is None:
        return None
    if principal.is_channel:
        condition = condition & or_(
            Enterprise.permission_type == PermissionType.rps,
            Enterprise.authorization == Authorization.accepted,
        )
    return select(Enterprise.id).where(condition)


# --- narrowing queries (Query or Select) ------------------------------------------------------


def _where(query, condition):
    return query if condition is None else query.where(condition)


def visible_channels(query, principal=None, include_self=True):
    ids = channel_ids(principal or current_principal(), include_self=include_self)
    return _where(query, None if ids is None else Channel.id.in_(ids))


def manageable_channels(query, principal=None):
    """Channels the principal may edit/freeze: strictly below its own (a channel does not
    manage itself or its parent); for a sub-account, what was granted to it."""
    principal = principal or current_principal()
    include_self = principal.kind != AccountKind.channel_master
    return visible_channels(query, principal, include_self=include_self)


def visible_enterprises(query, principal=None):
    return _where(query, _enterprise_condition(principal or current_principal()))


def visible_devices(query, principal=None):
    ids = device_enterprise_ids(principal or current_principal())
    return _where(query, None if ids is None else Device.enterprise_id.in_(ids))


def visible_rps_devices(query, principal=None):
    """RPS devices of the enterprises the principal sees: no authorization needed."""
    ids = enterprise_ids(principal or current_principal())
    return _where(query, None if ids is None else RpsDevice.enterprise_id.in_(ids))


def visible_orders(query, principal=None):
    """Orders of the enterprises the principal sees (whichever channel placed them)."""
    ids = enterprise_ids(principal or current_principal())
    return _where(query, None if ids is None else Order.enterprise_id.in_(ids))


def visible_operation_logs(query, principal=None):
    principal = principal or current_principal()
    if principal.is_admin:
        return query
    if principal.kind == AccountKind.enterprise:
        return query.where(OperationLog.enterprise_id == principal.enterprise_id)
    if principal.is_channel:
        return query.where(
            or_(
                OperationLog.channel_id.in_(channel_ids(principal)),
                OperationLog.enterprise_id.in_(enterprise_ids(principal)),
            )
        )
    return query.where(false())


def visible_accounts(query, principal=None):
    principal = principal or current_principal()
    if principal.is_admin:
        return query
    if principal.kind == AccountKind.enterprise:
        return query.where(Account.enterprise_id == principal.enterprise_id)
    if principal.is_channel:
        return query.where(
            or_(
                Account.channel_id.in_(channel_ids(principal)),
                Account.enterprise_id.in_(enterprise_ids(principal)),
            )
        )
    return query.where(false())


def manageable_sub_accounts(query, principal=None):
    """Sub-accounts the principal manages: a master account those of its own channel, the
    platform administrator all; nobody else any (a sub-account never its siblings or itself).
    """
    principal = principal or current_principal()
    subs = Account.kind == AccountKind.channel_sub
    if principal.is_admin:
        return query.where(subs)
    if principal.kind == AccountKind.channel_master:
        return query.where(subs, Account.channel_id == principal.channel_id)
    return query.where(false())


def visible_outbox(query, principal=None):
    """The mail outbox (every tenant's mail): the platform administrator's alone."""
    principal = principal or current_principal()
    return query if principal.is_admin else query.where(false())


_NARROWERS = {
    Channel: visible_channels,
    Enterprise: visible_enterprises,
    OutboxMessage: visible_outbox,
    Device: visible_devices,
    RpsDevice: visible_rps_devices,
    Order: visible_orders,
    OperationLog: visible_operation_logs,
    Account: visible_accounts,
}


def is_scoped(model) -> bool:
    return model in _NARROWERS


def narrow(model, query, principal=None):
    """Narrow any query over a tenant model; models without tenant data pass unchanged."""
    narrower = _NARROWERS.get(model)
    if narrower is None:
        return query
    return narrower(query, principal)


_MAX_ID = 2**63 - 1


def parse_pk(value) -> int | None:
    """An id from a URL or form as an int, or None when it cannot be one of ours."""
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= _MAX_ID else None


def can_access(session, model, pk, principal=None) -> bool:
    pk = parse_pk(pk)
    if pk is None:
        return False
    query = narrow(model, select(true()).select_from(model).where(model.id == pk), principal)
    return session.execute(query.limit(1)).first() is not None


def get_or_raise(session, model, pk, principal=None, narrower=None):
    """The row, or OutOfScope when it does not exist or the principal may not see it.
    ``narrower`` replaces the model's default narrowing (e.g. manageable_channels)."""
    if parse_pk(pk) is None:
        raise OutOfScope(f"{model.__name__} {pk!r}")
    pk = parse_pk(pk)
    query = select(model).where(model.id == pk)
    query = narrower(query, principal) if narrower else narrow(model, query, principal)
    row = session.execute(query).scalar()
    if row is None:
        raise OutOfScope(f"{model.__name__} {pk}")
    return row


def get_or_404(session, model, pk, principal=None):
    try:
        return get_or_raise(session, model, pk, principal)
    except OutOfScope:
        abort(404)
