"""System Management > Operation Log. What is logged, and by whom, is app/core/oplog.py."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core import scope
from app.core.listing import Col, ListFilter
from app.core.scoped_view import ScopedInterface
from app.core.views import FastScopedModelView, fmt_time
from app.models import OperationLog
from app.system.rules import may_manage_sub_accounts


def sub_accounts_menu_shown():
    """Only master accounts (and the platform admin) manage sub accounts: a sub-account with
    every feature still does not see the menu."""
    return may_manage_sub_accounts(scope.current_principal())


class OperationLogModelView(FastScopedModelView):
    datamodel = ScopedInterface(OperationLog)
    list_title = _l("Operation Log")
    base_permissions = ["can_list", "can_show"]
    list_cols = [
        Col("created_on", _l("Time"), lambda o: fmt_time(o.created_on)),
        Col("username", _l("User"), lambda o: o.username + (
            f" ({o.actor_username})" if o.actor_username else "")),
        Col("operation", _l("Operation"), lambda o: o.operation),
        Col("path", _l("Path"), lambda o: o.path),
        Col("ip", _l("IP Address"), lambda o: o.ip),
        Col("result", _l("Result"), lambda o: o.result),
    ]
    search_exprs = [OperationLog.username, OperationLog.operation, OperationLog.path]
    list_filters = [ListFilter("result", _l("Result"), [("success", _l("Success")),
                                                         ("failure", _l("Failure"))],
                               lambda q, v: q.where(OperationLog.result == v))]
    show_columns = ["created_on", "username", "actor_username", "operation", "method", "path",
                    "ip", "result", "status_code"]

    def list_base_query(self):
        return scope.visible_operation_logs(select(OperationLog))
