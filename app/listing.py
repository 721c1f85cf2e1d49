"""The list machinery every big list uses (devices now; alarms, orders, logs later).

What FAB's stock list does and this does not (measured in ARCHITECTURE.md):
- permissions: resolved once per request by the security manager, not 15 queries;
- count: a capped count (``LIST_COUNT_CAP``) instead of an exact COUNT(*) over everything;
- related columns: loaded in the page query (LEFT JOIN + contains_eager), never row by row;
- page size: capped (``LIST_MAX_PAGE_SIZE``), garbage falls back to the default;
- deep pages: keyset pagination on (sort column, id), so the last page costs what the
  first does; every sortable column must be NOT NULL and indexed together with id;
- rendering: cells are computed once in Python, the template loops over plain strings.
"""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import and_, func, or_, select


@dataclass
class Col:
    key: str
    label: str
    value: Callable[[Any], Any]
    sort: Any = None  # a NOT NULL, indexed SQL expression, or None when not sortable


@dataclass
class ListFilter:
    key: str
    label: str
    choices: list  # [(value, label)]
    apply: Callable[[Any, str], Any]


@dataclass
class Page:
    rows: list
    has_prev: bool
    has_next: bool
    first_key: str | None = None
    last_key: str | None = None


@dataclass
class ListRequest:
    """The parsed, validated query string of a list page."""

    sort: str
    desc: bool
    size: int
    q: str = ""
    after: tuple | None = None
    before: tuple | None = None
    last: bool = False
    filters: dict = field(default_factory=dict)


def encode_key(values):
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(token):
    """A page cursor back to (sort value, id); a tampered cursor is a 400, not a 500."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        abort(400, description="Invalid page cursor.")
    if not isinstance(pk, int) or not isinstance(value, (str, int, bool, type(None))):
        abort(400, description="Invalid page cursor.")
    return value, pk


def parse_page_size(raw):
    default = current_app.config["LIST_PAGE_SIZE"]
    try:
        size = int(raw)
    except (TypeError, ValueError):
        return default
    return max(1, min(size, current_app.config["LIST_MAX_PAGE_SIZE"]))


def _seek(sort_expr, id_expr, key, forward_desc):
    """WHERE clause for rows strictly after `key` in the given direction."""
    value, pk = key
    if sort_expr is id_expr:
        return id_expr < pk if forward_desc else id_expr > pk
    beyond = sort_expr < value if forward_desc else sort_expr > value
    tie = id_expr < pk if forward_desc else id_expr > pk
    return or_(beyond, and_(sort_expr == value, tie))


def fetch_page(session, query, sort_expr, id_expr, req: ListRequest):
    """One page of ``query`` (a Select of ORM rows) by keyset on (sort_expr, id_expr)."""
    backwards = req.before is not None or req.last
    desc = req.desc != backwards  # walking backwards reverses the order
    key = req.after or req.before
    if key is not None:
        query = query.where(_seek(sort_expr, id_expr, key, desc))
    order = [sort_expr.desc(), id_expr.desc()] if desc else [sort_expr.asc(), id_expr.asc()]
    if sort_expr is id_expr:
        order = order[1:]
    rows = session.execute(query.order_by(*order).limit(req.size + 1)).unique().scalars().all()
    more = len(rows) > req.size
    rows = rows[: req.size]
    if backwards:
        rows.reverse()
        has_prev, has_next = more, not req.last
    else:
        has_prev, has_next = key is not None, more
    return rows, has_prev, has_next


def capped_count(session, id_query, cap):
    """How many rows match, counting at most cap+1 of them: (number, is_capped)."""
    sub = id_query.limit(cap + 1).subquery()
    n = session.execute(select(func.count()).select_from(sub)).scalar_one()
    return min(n, cap), n > cap


class FastListMixin:
    """Replaces a ModelView's /list/ with the fast machinery. A view declares:

    ``list_cols`` (Col), ``search_exprs`` (columns matched by prefix against ``q``),
    ``list_filters`` (ListFilter), ``default_sort`` and ``list_base_query()``: a scoped
    Select of the model with its related columns eagerly joined.
    """

    list_cols: list = []
    search_exprs: list = []
    list_filters: list = []
    default_sort = ("id", True)
    fast_list_template = "fastlist.html"

    def list_base_query(self):  # pragma: no cover - each view declares it
        raise NotImplementedError

    # -- request parsing ----------------------------------------------------------------------
    def _sortable(self):
        sortable = {c.key: c.sort for c in self.list_cols if c.sort is not None}
        sortable["id"] = self.datamodel.obj.id
        return sortable

    def parse_list_request(self):
        args = request.args
        sortable = self._sortable()
        sort = args.get("sort", self.default_sort[0])
        if sort not in sortable:
            sort = self.default_sort[0]
        desc = args.get("dir", "desc" if self.default_sort[1] else "asc") != "asc"
        req = ListRequest(sort=sort, desc=desc, size=parse_page_size(args.get("psize")))
        req.q = args.get("q", "").strip()[:128]
        if args.get("after"):
            req.after = decode_key(args["after"])
        elif args.get("before"):
            req.before = decode_key(args["before"])
        elif args.get("last"):
            req.last = True
        for flt in self.list_filters:
            value = args.get(flt.key, "")
            if value and value in {str(v) for v, _ in flt.choices}:
                req.filters[flt.key] = value
        return req

    def apply_search(self, query, req):
        if req.q and self.search_exprs:
            pattern = req.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(*[e.like(pattern, escape="\\") for e in self.search_exprs]))
        for flt in self.list_filters:
            if flt.key in req.filters:
                query = flt.apply(query, req.filters[flt.key])
        return query

    # -- the page ---------------------------------------------------------------------------
    def render_fast_list(self):
        req = self.parse_list_request()
        session = self.datamodel.session
        model = self.datamodel.obj
        sort_expr = self._sortable()[req.sort]
        rows, has_prev, has_next = fetch_page(
            session, self.apply_search(self.list_base_query(), req), sort_expr, model.id, req
        )
        count_query = self.apply_search(self.list_count_query(), req)
        count, capped = capped_count(session, count_query, current_app.config["LIST_COUNT_CAP"])
        sort_attr = next((c for c in self.list_cols if c.key == req.sort), None)

        def key_of(row):
            value = getattr(row, sort_attr.key) if sort_attr and req.sort != "id" else row.id
            return encode_key((value, row.id))

        base_args = {k: v for k, v in request.args.items()
                     if k not in ("after", "before", "last")}
        nav = {
            "first": url_for(".list", **base_args) if has_prev else None,
            "prev": url_for(".list", before=key_of(rows[0]), **base_args)
            if has_prev and rows else None,
            "next": url_for(".list", after=key_of(rows[-1]), **base_args)
            if has_next and rows else None,
            "last": url_for(".list", last=1, **base_args) if has_next else None,
        }
        sm = self.appbuilder.sm
        perm = self.class_permission_name
        can = {name: sm.has_access(f"can_{name}", perm)
               for name in ("show", "edit", "delete", "add")}
        placeholder = "0000000"
        urls = {name: url_for(f".{name}", pk=placeholder) for name in ("show", "edit", "delete")}
        table = [
            (row.id, [("" if v is None else v) for v in (c.value(row) for c in self.list_cols)],
             {n: u.replace(placeholder, str(row.id)) for n, u in urls.items()})
            for row in rows
        ]
        actions = [a for a in self.actions.values()
                   if a.multiple and sm.has_access(self.get_action_permission_name(a.name), perm)]
        return render_template(
            self.fast_list_template,
            appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template,
            title=self.list_title,
            cols=self.list_cols,
            table=table,
            count=count,
            capped=capped,
            nav=nav,
            req=req,
            can=can,
            actions=actions,
            filters=self.list_filters,
            sort_url=lambda key: url_for(
                ".list", **{**{k: v for k, v in base_args.items() if k not in ("sort", "dir")},
                            "sort": key,
                            "dir": "asc" if req.sort == key and req.desc else "desc"}),
        )

    def list_count_query(self):
        """The ids matching the list, without the page's eager joins."""
        return self.list_base_query().with_only_columns(self.datamodel.obj.id)
