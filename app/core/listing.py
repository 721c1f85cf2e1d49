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
import datetime
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from flask import abort, current_app, g, render_template, request, url_for
from flask import session as http_session
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from sqlalchemy import UniqueConstraint, and_, func, or_, select

from app.core import list_rows, scope
from app.core.query_plans import (
    RANGE_SORT_MAX,
    criteria_of,
    filters_and_orders,
    join_hidden,
    parent_columns,
    small_range,
    sort_indexes,
    walk_in_order,
    with_index_hints,
)
from app.core.show import LazyBadge


@dataclass
class Col:
    key: str
    label: str
    value: Callable[[Any], Any]
    sort: Any = None  # a NOT NULL, indexed SQL expression, or None when not sortable


@dataclass
class RowAction:
    """A per-row button that POSTs (with the list form's CSRF token) to ``endpoint`` with
    ``args`` and ``pk``. ``permission`` is (permission, view); by default the view's own
    action permission ``name``. ``visible(row)`` hides it on rows it does not apply to."""

    name: str
    label: Any
    icon: str
    endpoint: str
    args: dict
    visible: Callable[[Any], bool] | None = None
    confirm: Any = None
    permission: tuple | None = None


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


def like_pattern(text, contains=False):
    """A LIKE pattern matching ``text`` literally at the start (or anywhere) of a value;
    the escape character is the backslash."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("%" if contains else "") + escaped + "%"


def _jsonable(value):
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


def encode_key(values):
    raw = json.dumps([_jsonable(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key(token):
    """A page cursor back to (sort value, id); a tampered cursor is a 400, not a 500."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        abort(400, description="Invalid page cursor.")
    # Row ids are positive 64-bit integers; a bool is an int to Python but no id.
    if not _is_int64(pk) or pk < 1 or not isinstance(value, (str, int)) or (
            isinstance(value, int) and not _is_int64(value)):
        abort(400, description="Invalid page cursor.")
    return value, pk


def _is_int64(value):
    """An int (not a bool) that fits a BIGINT: a bigger one cannot even be bound (SQLite)."""
    return isinstance(value, int) and not isinstance(value, bool) and (
        -(2**63) <= value < 2**63)


def parse_page_size(raw):
    default = current_app.config["LIST_PAGE_SIZE"]
    try:
        size = int(raw)
    except (TypeError, ValueError):
        return default
    return max(1, min(size, current_app.config["LIST_MAX_PAGE_SIZE"]))


def is_unique(expr):
    """Whether a sort column is unique on its own (its primary key, ``unique=True`` or a
    one-column unique index or constraint)."""
    props = getattr(expr, "property", None)
    column = props.columns[0] if props is not None and hasattr(props, "columns") else expr
    if getattr(column, "primary_key", False) or getattr(column, "unique", False):
        return True
    table = getattr(column, "table", None)
    if table is None:
        return False
    singles = [list(ix.columns) for ix in table.indexes if ix.unique]
    singles += [list(c.columns) for c in table.constraints if isinstance(c, UniqueConstraint)]
    return any(len(cols) == 1 and cols[0] is column for cols in singles)


def _key_value(sort_expr, value):
    """A cursor's sort value as the column's Python type (dates travel as ISO text)."""
    python_type = None
    try:
        python_type = sort_expr.type.python_type
    except (AttributeError, NotImplementedError):
        pass  # a column type with no Python type (or no type): its value is used as it came
    if python_type in (datetime.date, datetime.datetime):
        try:
            return python_type.fromisoformat(value)
        except (TypeError, ValueError):
            abort(400, description="Invalid page cursor.")
    # A text column compared with a number (or the reverse) is no cursor of ours, and MariaDB
    # would convert every row's value to compare them.
    if python_type in (int, str) and not isinstance(value, python_type):
        abort(400, description="Invalid page cursor.")
    return value


def _seek(sort_expr, id_expr, key, forward_desc, unique):
    """WHERE clause for rows strictly after `key` in the given direction."""
    value, pk = key
    value = _key_value(sort_expr, value)
    if sort_expr is id_expr:
        return id_expr < pk if forward_desc else id_expr > pk
    beyond = sort_expr < value if forward_desc else sort_expr > value
    if unique:
        return beyond
    tie = id_expr < pk if forward_desc else id_expr > pk
    return or_(beyond, and_(sort_expr == value, tie))


def _selects_model(query):
    """Whether the Select's first item is a whole model (ORM objects) or a column (rows)."""
    first = query.column_descriptions[0]
    return first.get("entity") is not None and first.get("expr") is first.get("entity")


def fetch_page(session, query, sort_expr, id_expr, req: ListRequest, many=False,
               big_scope=False):
    """One page of ``query`` (a Select of ORM rows) by keyset on (sort_expr, id_expr).

    ``many``: the capped count says more rows match than its cap. Then walking the sort
    index and stopping after size+1 matching rows is the cheap plan, and the database is told
    so (``walk_in_order``). When few rows match, the optimizer's own plan is the right one
    (≤ the cap rows, from the scope's side): the ordered walk would read most of the table to
    fill a page of a small tenant (100-800 ms at 1M devices).

    ``big_scope``: the principal sees more rows than the cap (whatever the filters): the scope
    must not drive the plan either, even when few rows match (MariaDB read all 900k orders of
    a big channel through the scope to find its 7,000 pending ones: 0.9 s).

    With filters, MariaDB's ORDER BY ... LIMIT planning assumes the matching rows are spread
    evenly along the sort order, and walks the sort index: wrong when they cluster (the
    effective orders are the recent ones; a date range is a slice of the id order), and the
    last page then read 600k rows. The sort index is hidden from ORDER BY, so the rows are
    found through the filter's own index and only they are sorted, when that is cheap: few
    rows match (at most the cap), an index both filters and orders (``status, id``), or a
    date range holds at most RANGE_SORT_MAX rows.
    """
    backwards = req.before is not None or req.last
    table = id_expr.table
    criteria = criteria_of(query, table)
    # Many matches: the ordered walk finds a page soonest, and no parent-key index may
    # drive or merge (not even one a search names constants of: "Blue" is 250 enterprises'
    # ids and 2,000 resellers' orders, read through an index merge: 350 ms). Few matches in
    # a big scope: the scope's index is hidden, but not when a search names a few of its
    # values: that index is how the few are found (index merge).
    if many:
        for_join = join_hidden(table, parent_columns(table))
    elif big_scope:
        for_join = join_hidden(table, criteria.scoped, criteria.constant)
    else:
        for_join = []
    for_order_by = []
    sort_name = getattr(sort_expr, "name", None) or getattr(sort_expr, "key", None)
    if criteria.pinned or criteria.bounded or req.q:
        if (not many
                or filters_and_orders(table, criteria.pinned, sort_name, id_expr.name)
                or small_range(session, table, criteria.bounded, sort_name,
                                RANGE_SORT_MAX)):
            for_order_by = sort_indexes(table, sort_name)
    query = with_index_hints(query, table, for_join, for_order_by)
    desc = req.desc != backwards  # walking backwards reverses the order
    key = req.after or req.before
    # A unique sort column needs no id tie-breaker, and MariaDB walks its index only without
    # one: ORDER BY mac, id scanned and sorted all 1M devices (260 ms), ORDER BY mac 0.4 ms.
    unique = sort_expr is not id_expr and is_unique(sort_expr)
    if key is not None:
        query = query.where(_seek(sort_expr, id_expr, key, desc, unique))
    order = [sort_expr.desc(), id_expr.desc()] if desc else [sort_expr.asc(), id_expr.asc()]
    if sort_expr is id_expr:
        order = order[1:]
    elif unique:
        order = order[:1]
    if not (many or big_scope):
        # A small scope's page: its ids first (by id, from the scope's (parent, id) index
        # alone), then those rows. In one statement MariaDB joined and read every row in
        # scope before sorting: 9,100 scattered orders, 300+ ms when they were not cached.
        # Without the page's joins: MariaDB drops an unused LEFT JOIN but still reads each
        # row for its join column (416 ms against 2 ms).
        ids_query = select(id_expr)
        if query.whereclause is not None:
            ids_query = ids_query.where(query.whereclause)
        if ids_query.get_final_froms() != [table]:  # the WHERE names a joined table
            ids_query = query.with_only_columns(id_expr)
        ids_query = with_index_hints(ids_query, table, for_join, for_order_by)
        ids = session.execute(ids_query.order_by(*order).limit(req.size + 1)).scalars().all()
        query = query.where(id_expr.in_(ids))
    result = session.execute(query.order_by(*order).limit(req.size + 1))
    # A Select of the model gives ORM objects; a Select of columns gives plain rows, which
    # skip the ORM's identity map and object building (about 1.5 ms a page of 50 at 1M).
    rows = result.unique().scalars().all() if _selects_model(query) else result.all()
    more = len(rows) > req.size
    rows = rows[: req.size]
    if backwards:
        rows.reverse()
        has_prev, has_next = more, not req.last
    else:
        has_prev, has_next = key is not None, more
    return rows, has_prev, has_next


def _text(value, memo):
    """A cell value as text; a lazy translation (``lazy_gettext``, built anew for every row by
    a Col such as Online/Offline) is looked up once per page, not once per cell."""
    if value is None:
        return ""
    if isinstance(value, LazyBadge):
        text = memo.get(id(value))
        if text is None:
            text = memo[id(value)] = value.render()
        return text
    if isinstance(value, LazyString):
        key = (value._func, value._args, tuple(value._kwargs.items()))
        text = memo.get(key)
        if text is None:
            text = memo[key] = str(value)
        return text
    return value


def _row_cells(values, memo):
    """(first cell, the other cells as escaped ``<td>`` markup): the template links the first
    cell and prints the rest as they are, instead of looping over every cell in Jinja."""
    texts = [_text(v, memo) for v in values]
    rest = "".join([f"<td>{escape(t)}</td>" for t in texts[1:]])
    return (texts[0] if texts else ""), Markup(rest)


def capped_count(session, id_query, cap, probe=True):
    """How many rows match, counting at most cap+1 of them: (number, is_capped).

    ``probe``: first ask "is there a row past the cap?" (``LIMIT 1 OFFSET cap``); when many
    rows match, as they do on an unsearched list of a big tenant, that one statement answers.
    ``COUNT(*) FROM (... LIMIT cap+1)`` reads the same index entries but also writes them to a
    temporary table (1.9 ms against 1.2 ms at cap 10,000). When few rows match, the probe
    costs a second statement, and when the matches must be searched for through the whole
    tenant (a search that finds little) it doubles that scan: callers probe only when many
    matches are likely.
    """
    if probe:
        if session.execute(id_query.limit(1).offset(cap)).first() is not None:
            return cap, True
        sub = id_query.subquery()
    else:
        sub = id_query.limit(cap + 1).subquery()
    n = session.execute(select(func.count()).select_from(sub)).scalar_one()
    return min(n, cap), n > cap


_MANY_KEY = "_ymcs_many"  # session: {list key: until when "more than the cap" is trusted}
_MANY_REMEMBERED = 16


def _list_key(req):
    """Who looks at which rows: the list, the principal (act-as changes it), search, filters."""
    p = scope.current_principal()
    raw = json.dumps([request.endpoint, p.account_id, p.kind, p.channel_id, p.enterprise_id,
                      req.q, sorted(req.filters.items())], default=str)
    return hashlib.blake2s(raw.encode(), digest_size=8).hexdigest()


def remembered_many(key):
    until = (http_session.get(_MANY_KEY) or {}).get(key)
    return until is not None and until > time.time()


def remember_many(key, seconds):
    now = time.time()
    seen = {k: v for k, v in (http_session.get(_MANY_KEY) or {}).items() if v > now}
    seen[key] = int(now + seconds)
    if len(seen) > _MANY_REMEMBERED:
        seen = dict(sorted(seen.items(), key=lambda kv: kv[1])[-_MANY_REMEMBERED:])
    http_session[_MANY_KEY] = seen


class FastListMixin:
    """Replaces a ModelView's /list/ with the fast machinery. A view declares:

    ``list_cols`` (Col), ``search_exprs`` (columns matched by prefix against ``q``),
    ``list_filters`` (ListFilter), ``default_sort`` and ``list_base_query()``: a scoped
    Select of the model with its related columns eagerly joined.
    """

    list_cols: list = []
    search_exprs: list = []
    list_filters: list = []
    row_actions: list = []
    search_contains = False
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
            pattern = like_pattern(req.q, contains=self.search_contains)
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
        count, capped = self.list_count(session, req)
        rows, has_prev, has_next = fetch_page(
            session, self.apply_search(self.list_base_query(), req), sort_expr, model.id, req,
            many=capped, big_scope=capped or self.scope_is_big(session, req),
        )
        sort_attr = next((c for c in self.list_cols if c.key == req.sort), None)

        def key_of(row):
            value = getattr(row, sort_attr.key) if sort_attr and req.sort != "id" else row.id
            return encode_key((value, row.id))

        list_url = url_for(".list")
        base_args = {k: v for k, v in request.args.items()
                     if k not in ("after", "before", "last")}

        def link(**args):
            args = {**base_args, **args}
            return f"{list_url}?{urlencode(args)}" if args else list_url

        nav = {
            "first": link() if has_prev else None,
            "prev": link(before=key_of(rows[0])) if has_prev and rows else None,
            "next": link(after=key_of(rows[-1])) if has_next and rows else None,
            "last": link(last=1) if has_next else None,
        }
        unsorted = {k: v for k, v in base_args.items() if k not in ("sort", "dir")}
        sort_urls = {
            c.key: f"{list_url}?" + urlencode(
                {**unsorted, "sort": c.key,
                 "dir": "asc" if req.sort == c.key and req.desc else "desc"})
            for c in self.list_cols if c.sort is not None
        }
        sm = self.appbuilder.sm
        perm = self.class_permission_name
        can = {name: sm.has_access(f"can_{name}", perm)
               for name in ("show", "edit", "delete", "add")}
        can["add"] = can["add"] and self.may_add()
        placeholder = "0000000"
        urls = {name: url_for(f".{name}", pk=placeholder)
                for name in ("show", "edit", "delete") if can[name]}
        memo = {}
        cols = self.list_cols  # once: a view may compute its columns per principal
        table = [
            (row.id, *_row_cells([c.value(row) for c in cols], memo),
             {n: u.replace(placeholder, str(row.id)) for n, u in urls.items()})
            for row in rows
        ]
        actions = [a for a in self.actions.values()
                   if a.multiple and sm.has_access(self.get_action_permission_name(a.name), perm)]
        row_buttons = self.row_buttons(rows, placeholder)
        table_html = list_rows.rows_html(table, can, row_buttons, bool(actions), {
            "select": gettext("Select"), "edit": gettext("Edit"), "delete": gettext("Delete"),
            "confirm": gettext("Delete this record?"), "actions": gettext("Actions")})
        return render_template(
            self.fast_list_template,
            appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template,
            title=self.list_title,
            cols=self.list_cols,
            table=table,
            table_html=table_html,
            count=count,
            capped=capped,
            nav=nav,
            req=req,
            can=can,
            actions=actions,
            filters=self.list_filters,
            list_url=list_url,
            sort_urls=sort_urls,
            **self.list_extra_context(req),
        )

    def list_count(self, session, req):
        """(count, capped) of the rows matching ``req``.

        "More than LIST_COUNT_CAP" is remembered in the user's session for
        LIST_COUNT_CACHE_SECONDS (default 60; 0 turns it off) per list, principal, search and
        filters: paging, sorting and reloading a big list then skip the count (1.2 ms of
        MariaDB and 0.4 ms of Python at 1M devices, on every page). A count under the cap is
        never remembered: small lists always show the exact number. The cost: for that
        long, a list that shrank under the cap still says "more than". A list both searched
        and filtered in a big scope counts up to LIST_SEARCH_COUNT_CAP only.
        """
        cap = current_app.config["LIST_COUNT_CAP"]
        seconds = current_app.config["LIST_COUNT_CACHE_SECONDS"]
        big_scope = self.scope_is_big(session, req)
        if big_scope and req.q and req.filters:
            # A search and a filter in a big scope: their matches are scattered through it,
            # and counting 10,001 of them read 130,000 rows (a status and a word matching
            # 75,000 of 1M orders: 160-300 ms). The page itself needs 51.
            cap = min(cap, current_app.config["LIST_SEARCH_COUNT_CAP"])
        key = _list_key(req) if seconds else None
        if key and remembered_many(key):
            return cap, True
        count_query = self.apply_search(self.list_count_query(), req)
        probe = not req.q
        if big_scope:
            # Counting the few matches of a big tenant through its scope read every row in
            # it (0.9 s for a channel's 7,000 pending orders among its 900k).
            table = self.datamodel.obj.__table__
            count_query = walk_in_order(count_query, table,
                                        keep=criteria_of(count_query, table).constant)
        elif req.q or req.filters:
            probe = False  # a small scope cannot match more than the cap: count at once
        count, capped = capped_count(session, count_query, cap, probe=probe)
        if key and capped:
            remember_many(key, seconds)
        return count, capped

    def scope_is_big(self, session, req):
        """Whether the principal sees more rows than LIST_COUNT_CAP in this list, searched or
        filtered or not; asked only of searched or filtered lists (an unfiltered list's own
        count says it). Remembered in the session for LIST_COUNT_CACHE_SECONDS, both ways (it
        only chooses plans; the counts shown never come from it)."""
        if not (req.q or req.filters):
            return False
        cached = g.get("_ymcs_scope_is_big")
        if cached is not None and cached[0] == request.endpoint:
            return cached[1]
        cap = current_app.config["LIST_COUNT_CAP"]
        seconds = current_app.config["LIST_COUNT_CACHE_SECONDS"]
        key = _list_key(replace(req, q="", filters={})) if seconds else None
        if key and remembered_many(key):
            big = True
        elif key and remembered_many(key + ":small"):
            big = False  # only a plan choice: a scope that grew meanwhile stays correct
        else:
            probe = self.list_count_query().limit(1).offset(cap)
            big = session.execute(probe).first() is not None
            if key:
                remember_many(key if big else key + ":small", seconds)
        g._ymcs_scope_is_big = (request.endpoint, big)
        return big

    def may_add(self):
        """Whether to offer Add beyond the permission (a rule of the view's own)."""
        return True

    def list_extra_context(self, req):
        """More template variables for a view's own list template."""
        return {}

    def row_buttons(self, rows, placeholder):
        """{pk: [(url, label, icon, confirm)]} of the permitted row actions that apply."""
        sm = self.appbuilder.sm
        permitted = []
        for a in self.row_actions:
            permission, view = a.permission or (self.get_action_permission_name(a.name),
                                                self.class_permission_name)
            if sm.has_access(permission, view):
                url = url_for(a.endpoint, pk=placeholder, **a.args)
                permitted.append((a, url, str(a.label), str(a.confirm or "")))
        if not permitted:
            return {}
        return {row.id: [(url.replace(placeholder, str(row.id)), label, a.icon, confirm)
                         for a, url, label, confirm in permitted
                         if a.visible is None or a.visible(row)]
                for row in rows}

    def list_count_query(self):
        """The ids matching the list, without the page's eager joins."""
        return self.list_base_query().with_only_columns(self.datamodel.obj.id)
