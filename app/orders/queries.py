"""What an order or statement list shows: its criteria (search, status, date ranges, sort),
parsed once from the query string and applied the same way by the list page and its Excel
export, always inside the principal's scope.
"""

import datetime
import json
from dataclasses import asdict, dataclass

from flask import g, has_request_context
from sqlalchemy import false, literal, or_, select, union_all

from app.accounts.rules import _N
from app.core import scope
from app.core.listing import like_pattern
from app.extensions import db
from app.models import Channel, Enterprise, Order, OrderStatus
from app.orders.rules import expires_on_for

ORDERS = "orders"
STATEMENTS = "statements"

# (key in the query string, the column it bounds): each range is "<key>_from" .. "<key>_to".
RANGES = {
    "ordered": Order.created_on,  # a DateTime: the end day counts whole
    # The days typed are last days of service, as the list shows them (rules.last_day_of_
    # service); the bounds are turned into the stored expires_on, whose index serves them.
    "expires": Order.expires_on,
}
_STORED_DAY = {"expires": expires_on_for}
# The list's sortable columns (each NOT NULL and indexed with id, for keyset pages).
# Keys are the list columns' keys (and the rows' attribute names).
SORTS = {
    "id": Order.id,
    "created_on": Order.created_on,
    "duration_months": Order.duration_months,
    "expires_on": Order.expires_on,
}


@dataclass
class OrderCriteria:
    q: str = ""
    status: str = ""
    ordered_from: datetime.date | None = None
    ordered_to: datetime.date | None = None
    expires_from: datetime.date | None = None
    expires_to: datetime.date | None = None
    sort: str = "id"
    desc: bool = True

    def to_json(self):
        return json.dumps({k: (v.isoformat() if isinstance(v, datetime.date) else v)
                           for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, text):
        raw = json.loads(text)
        for name in ("ordered_from", "ordered_to", "expires_from", "expires_to"):
            if raw.get(name):
                raw[name] = datetime.date.fromisoformat(raw[name])
        return cls(**raw)


DAY_MIN, DAY_MAX = datetime.date(1970, 1, 1), datetime.date(9998, 12, 31)


def _parse_day(text):
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return False
    # A range's end counts whole (the next day bounds it): 9999-12-31 has no next day.
    return day if DAY_MIN <= day <= DAY_MAX else False


def parse_order_criteria(args, ranges=tuple(RANGES)):
    """(criteria, errors) from a query string. Errors are untranslated message templates with
    their parameters; a range in error is left out of the criteria, never half applied."""
    criteria = OrderCriteria(q=(args.get("q") or "").strip()[:128])
    errors = []
    status = args.get("status") or ""
    if status in {s.value for s in OrderStatus}:
        criteria.status = status
    for key in ranges:
        start, end = _parse_day(args.get(f"{key}_from")), _parse_day(args.get(f"{key}_to"))
        if start is False or end is False:
            errors.append((_N("Dates are written YYYY-MM-DD."), {}))
            continue
        if start and end and end < start:
            errors.append((_N("The end date is before the start date."), {}))
            continue
        setattr(criteria, f"{key}_from", start)
        setattr(criteria, f"{key}_to", end)
    sort = args.get("sort") or "id"
    criteria.sort = sort if sort in SORTS else "id"
    criteria.desc = args.get("dir", "desc") != "asc"
    return criteria, errors


def apply_criteria(query, criteria: OrderCriteria, kind=ORDERS):
    """Narrow a Select over Order by the criteria (search, status, ranges); no ordering."""
    if criteria.q:
        query = query.where(_search(criteria.q, kind))
    if criteria.status:
        query = query.where(Order.status == criteria.status)
    for key, column in RANGES.items():
        start, end = getattr(criteria, f"{key}_from"), getattr(criteria, f"{key}_to")
        stored = _STORED_DAY.get(key)
        if stored is not None:
            start, end = start and stored(start), end and stored(end)
        if start:
            query = query.where(column >= start)
        if end:
            # Up to the end of the end day, whether the column holds a date or a time.
            query = query.where(column < end + datetime.timedelta(days=1))
    return query


# A prefix matching more enterprise (or channel) names than this is searched through a
# subquery: its orders are many, and the list walks its sort order to find them.
SEARCH_IDS_MAX = 1000


def _names_matching(pattern, kind):
    """(enterprise ids, channel ids) whose name starts with the search; None in place of a
    list longer than SEARCH_IDS_MAX. One statement, once per request."""
    cache = g.setdefault("_ymcs_search_ids", {}) if has_request_context() else {}
    key = (pattern, kind)
    if key not in cache:
        parts = [select(literal("e"), Enterprise.id)
                 .where(Enterprise.name.like(pattern, escape="\\"))]
        if kind == ORDERS:
            parts.append(select(literal("c"), Channel.id)
                         .where(Channel.name.like(pattern, escape="\\")))
        query = union_all(*parts) if len(parts) > 1 else parts[0]
        rows = db.session.execute(query.limit(2 * SEARCH_IDS_MAX + 1)).all()
        found = {"e": [], "c": []}
        for which, pk in rows:
            found[which].append(pk)
        overflow = len(rows) > 2 * SEARCH_IDS_MAX
        cache[key] = tuple(None if overflow or len(ids) > SEARCH_IDS_MAX else ids
                           for ids in (found["e"], found["c"]))
    return cache[key]


def _search(q, kind):
    """Order ID (digits), or the start of the enterprise name; orders also match the
    distributor's name and the reseller.

    The names are looked up first and the orders matched by their ids: each alternative of
    the OR then has an index of its own (enterprise_id, channel_id, reseller, id) and MariaDB
    reads only the matching orders (index merge). With the name lookups left as IN
    subqueries inside the OR, no index applies and every search read the whole table (or
    the whole scope): 1-2 s for the platform admin at 1M orders, 5-12 s for a big channel.
    """
    pattern = like_pattern(q)
    enterprise_ids, channel_ids = _names_matching(pattern, kind)
    alternatives = []
    if enterprise_ids is None:
        alternatives.append(Order.enterprise_id.in_(
            select(Enterprise.id).where(Enterprise.name.like(pattern, escape="\\"))))
    elif enterprise_ids:
        alternatives.append(Order.enterprise_id.in_(enterprise_ids))
    if kind == ORDERS:
        if channel_ids is None:
            alternatives.append(Order.channel_id.in_(
                select(Channel.id).where(Channel.name.like(pattern, escape="\\"))))
        elif channel_ids:
            alternatives.append(Order.channel_id.in_(channel_ids))
        alternatives.append(Order.reseller.like(pattern, escape="\\"))
    pk = scope.parse_pk(q) if q.isdigit() else None
    if pk is not None:
        alternatives.append(Order.id == pk)
    return or_(*alternatives) if alternatives else false()


# --- rows for the lists and the exports ------------------------------------------------------

ROW_COLUMNS = (
    Order.id, Order.created_on, Enterprise.name.label("enterprise_name"),
    Channel.name.label("distributor"), Order.reseller, Order.package_name, Order.quantity,
    Order.max_devices, Order.duration_months, Order.effective_on, Order.expires_on,
    Order.status,
)


def order_rows(principal=None):
    """A scoped Select of plain order rows with their enterprise and distributor names (LEFT
    JOINs: MariaDB planned the INNER JOIN of a big table badly)."""
    query = (select(*ROW_COLUMNS)
             .outerjoin(Enterprise, Enterprise.id == Order.enterprise_id)
             .outerjoin(Channel, Channel.id == Order.channel_id))
    return scope.visible_orders(query, principal)


def export_query(kind, criteria: OrderCriteria, principal):
    """Every row the list shows under ``criteria``, in its order, for an export."""
    query = apply_criteria(order_rows(principal), criteria, kind)
    sort = SORTS.get(criteria.sort, Order.id)
    order = [sort.desc() if criteria.desc else sort.asc()]
    if sort is not Order.id:
        order.append(Order.id.desc() if criteria.desc else Order.id.asc())
    return query.order_by(*order)


STATUS_LABELS = {
    OrderStatus.pending.value: _N("Not yet effective"),
    OrderStatus.effective.value: _N("Effective"),
    OrderStatus.expired.value: _N("Expired"),
    OrderStatus.cancelled.value: _N("Cancelled"),
}


def status_value(status):
    return status.value if isinstance(status, OrderStatus) else str(status)
