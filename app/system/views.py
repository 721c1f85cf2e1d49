"""System Management > Operation Log (read-only for everyone). What is logged, and by whom,
is app/core/oplog.py; its readable names app/system/operations.py; its criteria
app/system/queries.py."""

from dataclasses import replace

from flask import g, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import scope
from app.core.listing import Col, ListFilter
from app.core.scoped_view import ScopedInterface
from app.core.views import FastScopedModelView, fmt_time
from app.models import OperationLog
from app.system.operations import operation_label, operations_of, type_choices
from app.system.oplog_page import page_ids, page_query
from app.system.queries import apply_log_criteria, parse_log_criteria
from app.system.rules import may_manage_sub_accounts


def sub_accounts_menu_shown():
    """Only master accounts (and the platform admin) manage sub accounts: a sub-account with
    every feature still does not see the menu."""
    return may_manage_sub_accounts(scope.current_principal())


_RESULTS = {"success": _l("Success"), "failure": _l("Failure")}


class OperationLogModelView(FastScopedModelView):
    datamodel = ScopedInterface(OperationLog)
    list_title = _l("Operation Log")
    base_permissions = ["can_list", "can_show"]
    fast_list_template = "system/oplog_list.html"
    # Listed by time, newest first: rows are written in time order, so by id.
    default_sort = ("id", True)
    list_cols = [
        Col("created_on", _l("Time"), lambda o: fmt_time(o.created_on)),
        Col("username", _l("User"), lambda o: o.username + (
            f" ({o.actor_username})" if o.actor_username else "")),
        Col("operation", _l("Operation"), lambda o: operation_label(o.operation)),
        Col("path", _l("Path"), lambda o: o.path),
        Col("ip", _l("IP Address"), lambda o: o.ip),
        Col("result", _l("Result"), lambda o: _RESULTS.get(o.result, o.result)),
    ]
    search_exprs = [OperationLog.username]  # a login prefix (the path has its own box)
    list_filters = [
        ListFilter("op", _l("Operation"), type_choices(),
                   lambda q, v: q.where(OperationLog.operation.in_(operations_of(v)))),
        ListFilter("result", _l("Result"), list(_RESULTS.items()),
                   lambda q, v: q.where(OperationLog.result == v)),
    ]
    show_columns = ["created_on", "username", "actor_username", "operation", "method", "path",
                    "ip", "result", "status_code"]

    def _criteria(self):
        cached = g.get("_ymcs_log_criteria")
        if cached is None:
            cached = g._ymcs_log_criteria = parse_log_criteria(request.args)
        return cached

    def parse_list_request(self):
        req = super().parse_list_request()
        criteria, _errors = self._criteria()
        # The criteria the select filters do not carry are filters too (the count cache
        # is kept per filters).
        for key in ("start", "end", "path", "user"):
            value = getattr(criteria, key)
            if value:
                req.filters[key] = str(value)
        return req

    def apply_search(self, query, req):
        # The page's ids satisfy every criterion already (list_base_query); they are tested
        # again on its size+1 rows, exactly (no id ranges), whatever plan found them.
        query = super().apply_search(query, req)
        criteria, _errors = self._criteria()
        return apply_log_criteria(query, replace(criteria, op="", result=""))

    def list_extra_context(self, req):
        criteria, errors = self._criteria()
        return {"criteria_errors": [gettext(t, **p) for t, p in errors],
                "criteria": {k: request.args.get(k, "") for k in
                             ("start", "end", "path", "user")}}

    def list_base_query(self):
        """The page's rows by id: found by app/system/oplog_page.py (streams over the
        (tenant, filter, id) indexes), in the principal's scope."""
        cached = g.get("_ymcs_log_base")
        if cached is None:
            req = self.parse_list_request()
            criteria, _errors = self._criteria()
            backwards = req.before is not None or req.last
            key = req.after or req.before
            session = self.datamodel.session
            ids = page_ids(session, scope.current_principal(), criteria, req.q,
                           key[1] if key else None, req.desc != backwards, req.size,
                           lambda: self.scope_rows_many(session))
            cached = g._ymcs_log_base = page_query(ids)
        return cached

    # No count: over millions of rows, counting a channel's share of them (its subtree's
    # channel OR enterprise rows) read the table (2.5 s at 5M rows, bench/bench_oplog.py);
    # the pages move by keyset, newest first, and need none. The page's query is size+1
    # ids: the list machinery is told it is small.
    def list_count(self, session, req):
        return None, False

    def scope_is_big(self, session, req):
        return False

    BIG_SCOPE_ROWS = 50_000

    def scope_rows_many(self, session):
        """Whether the principal's rows are many (BIG_SCOPE_ROWS: its scope is then tested on
        the rows walked rather than read through its tenants' indexes): asked of its
        channels' rows only, through their index, and once per request."""
        cached = g.get("_ymcs_log_scope_big")
        if cached is None:
            cached = g._ymcs_log_scope_big = self._scope_rows_uncached(
                session, scope.current_principal())
        return cached

    def _scope_rows_uncached(self, session, principal):
        column, ids = (None, None)
        if principal.is_channel:
            column, ids = OperationLog.channel_id, scope.channel_ids(principal)
        elif principal.enterprise_id:
            column, ids = OperationLog.enterprise_id, [principal.enterprise_id]
        return principal.is_admin or (column is not None and session.execute(
            select(OperationLog.id).where(column.in_(ids)).limit(1).offset(
                self.BIG_SCOPE_ROWS)).first() is not None)
