"""The ids of one Operation Log page at millions of rows (issue 17: any page with any filter
under 150 ms at 5,000,000 rows; bench/bench_oplog.py).

A page is the size+1 rows next to the cursor, in id order (rows are written in time order),
of the principal's scope matching the criteria. It is read as a merge of *streams*: each
stream is one equality prefix of an index ending in id — (tenant, filter, id), (tenant, id),
(filter, id) or the primary key — walked from the cursor, at most size+1 entries each; the
streams' ids are merged and the first size+1 kept. A leaf channel's page with a filter is
then 11 tenants x 1-2 stored operations short index walks, whatever share of the log the
tenant or the filter holds (reading the tenant's 50,000 rows to test the filter on each,
or walking the whole log's ids to find a rare operation, took 0.2-2 s).

Streams per tenant need the composite indexes of migration 0016_oplog_indexes. A channel
whose subtree has too many tenants for a stream each has them as id lists (MariaDB reads
the matching entries of its (tenant, ...) indexes and sorts them: fine while the scope is
small) or, when its rows are many, as a condition tested on the rows of the filter's own
stream (they then match often, so the walk is short).
"""

from sqlalchemy import false, select, union_all

from app.core import scope
from app.core.listing import like_pattern
from app.models import AccountKind, OperationLog
from app.system.operations import operations_of
from app.system.queries import LogCriteria, apply_log_criteria

# At most this many streams (tenants x stored values of the leading filter) in one page's
# statement; more became a slow statement to plan (bench/bench_oplog.py).
MAX_STREAMS = 64
# A channel with more tenants than this has its scope tested as subqueries, not id lists.
MOST_LISTED = 2000
# A login or path prefix matching at most this many rows of the whole log is read through
# (username|path, id) and sorted; a commoner one is tested on the rows walked in id order
# (it then matches often). Within a tenant's stream, a prefix is always read through
# (tenant, username|path, id): a path the tenant seldom has took 3 s walked.
PREFIX_SORT_MAX = 20_000

T = OperationLog


def _leading_filter(criteria: LogCriteria):
    """(column, values) of the equality filter that leads each stream, the most selective
    first (a login, an operation type, a result), or (None, [None])."""
    if criteria.user:
        return T.username, [criteria.user]
    if criteria.op:
        return T.operation, operations_of(criteria.op)
    if criteria.result:
        return T.result, [criteria.result]
    return None, [None]


def _tenants(session, principal, keys, big_scope):
    """[(tenant column's name or None, condition or None)]: one per stream's tenant (an
    equality), the tenants as id lists, or the scope tested on the rows walked."""
    if principal.is_admin:
        return [(None, None)]
    if principal.kind == AccountKind.enterprise:
        return [("enterprise", T.enterprise_id == principal.enterprise_id)]
    if not principal.is_channel:
        return []

    def listed(most):
        return (session.execute(scope.channel_ids(principal).limit(most + 1)).scalars().all(),
                session.execute(scope.enterprise_ids(principal).limit(most + 1)
                                ).scalars().all())

    channels, enterprises = listed(MAX_STREAMS)  # a big subtree's ids only when needed
    if (len(channels) + len(enterprises)) * keys <= MAX_STREAMS:
        return ([("channel", T.channel_id == c) for c in channels]
                + [("enterprise", T.enterprise_id == e) for e in enterprises])
    if not big_scope():
        channels, enterprises = listed(MOST_LISTED)
        if len(channels) <= MOST_LISTED and len(enterprises) <= MOST_LISTED:
            return ([("channel", T.channel_id.in_(channels))] if channels else []) + (
                [("enterprise", T.enterprise_id.in_(enterprises))] if enterprises else [])
    # Many rows: tested on the rows walked (the scope's own condition, from app/core/scope.py)
    return [(None, scope.visible_operation_logs(select(T.id), principal).whereclause)]


def _index(tenant, lead):
    """The index a stream walks: (tenant, filter, id), (tenant, id), (filter, id) or the
    primary key (migrations 0012 and 0016)."""
    if tenant and lead:
        return f"ix_operation_log_{tenant}_{lead}"
    if tenant or lead:
        return f"ix_operation_log_{tenant or lead}"
    return "PRIMARY"


def _prefix_is_rare(session, column, prefix):
    probe = select(T.id).where(column.like(like_pattern(prefix), escape="\\")).limit(
        1).offset(PREFIX_SORT_MAX)
    return session.execute(probe).first() is None


def page_ids(session, principal, criteria: LogCriteria, q, cursor, descending, size,
             big_scope):
    """The ids of the page: at most ``size`` + 1, the first ones past ``cursor`` (an id, or
    None from an end) in the walking direction. ``big_scope()`` says whether the principal's
    rows are many (asked only when needed)."""
    column, values = _leading_filter(criteria)
    tenants = _tenants(session, principal, len(values), big_scope)
    if not tenants or not values:
        return []
    # Every criterion (a time range also as an id range) stays a condition of each stream;
    # the leading one's equality is the prefix of its index.
    base = apply_log_criteria(select(T.id), criteria, session)
    if q:
        base = base.where(T.username.like(like_pattern(q), escape="\\"))
    if cursor is not None:
        base = base.where(T.id < cursor if descending else T.id > cursor)
    order = T.id.desc() if descending else T.id.asc()
    lead = column.name if column is not None else None
    prefix_column, prefix = (T.username, q) if q else (T.path, criteria.path)
    if lead is None and prefix and (tenants[0][0] is not None
                                    or _prefix_is_rare(session, prefix_column, prefix)):
        lead = prefix_column.name  # a prefix's rows through its index, then sorted
    streams = []
    for tenant, condition in tenants:
        # The index is named, not left to the optimizer: with ORDER BY id LIMIT it walked
        # the primary key past millions of rows for a rare operation (bench/bench_oplog.py).
        hint = f"FORCE INDEX ({_index(tenant, lead)})"
        for value in values:
            stream = base
            if condition is not None:
                stream = stream.where(condition)
            if column is not None:
                stream = stream.where(column == value)
            for dialect in ("mysql", "mariadb"):
                stream = stream.with_hint(T, hint, dialect_name=dialect)
            streams.append(stream.order_by(order).limit(size + 1))
    if len(streams) == 1:
        return session.execute(streams[0]).scalars().all()
    merged = union_all(*[select(s.subquery().c.id) for s in streams]).subquery()
    ids = select(merged.c.id).order_by(merged.c.id.desc() if descending else merged.c.id)
    return session.execute(ids.limit(size + 1)).scalars().all()


def page_query(ids):
    """The page's rows, by id, in the principal's scope (tested again on them)."""
    query = scope.visible_operation_logs(select(T))
    return query.where(T.id.in_(ids)) if ids else query.where(false())

