"""Device Configuration > Executed Task: the pushes (and timer tasks) the principal may see,
one push's device rows, "Retry failed" and cancelling a timer task. Scoped by queries.py."""

import datetime
import zoneinfo

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.configs import pushes, queries, rules
from app.configs.tables import PushStatus, RowStatus
from app.configs.views import actor, message, page_arg
from app.configs.wake import wake_in_background
from app.core import scope
from app.extensions import db
from app.models import AccountKind

TASK_STATUS_LABELS = {
    "scheduled": _l("Scheduled"), "running": _l("In progress"), "finished": _l("Finished"),
    "with_failures": _l("With failures"), "cancelled": _l("Cancelled"),
    "refused": _l("Refused"),
}
ROW_STATUS_LABELS = {
    RowStatus.pending: (_l("Pending"), "info"), RowStatus.success: (_l("Success"), "success"),
    RowStatus.failed: (_l("Failed"), "danger"), RowStatus.expired: (_l("Expired"), "warning"),
    RowStatus.superseded: (_l("Superseded"), "default"),
}


def task_state(push):
    """The label key of a task's state (the list's Status column)."""
    if push.status != PushStatus.pushed:
        return push.status.value
    return "running" if push.open_rows else "finished"


def scheduled_text(push):
    """A timer task's moment as it was entered: local time in its zone."""
    if push.scheduled_for is None:
        return ""
    zone = push.time_zone or "UTC"
    try:
        local = push.scheduled_for.replace(tzinfo=datetime.UTC).astimezone(
            zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone, local = "UTC", push.scheduled_for
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def _date(name):
    text = (request.args.get(name) or "").strip()[:10]
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%d") if text else None
    except ValueError:
        return None


class ExecutedTaskView(BaseView):
    route_base = "/executedtask"
    default_view = "list"
    base_permissions = ["can_list", "can_show", "can_retry", "can_cancel"]
    method_permission_name = {"list": "list", "show": "show", "retry": "retry",
                              "cancel": "cancel"}

    def _push_or_404(self, pk):
        push = queries.push_or_none(db.session, scope.current_principal(), pk)
        if push is None:
            abort(404)
        return push

    def _can(self, permission):
        return self.appbuilder.sm.has_access(permission, self.class_permission_name)

    @expose("/list/", methods=["GET"])
    @has_access
    def list(self):
        q = (request.args.get("q") or "").strip()[:128]
        status = request.args.get("status", "")
        status = status if status in TASK_STATUS_LABELS else ""
        since, until = _date("since"), _date("until")
        oldest_first = request.args.get("sort") == "oldest"
        page = page_arg()
        rows, has_next = queries.push_list(
            db.session, scope.current_principal(), q=q, status=status, since=since,
            until=until, page=page, newest_first=not oldest_first)
        return self.render_template(
            "configs/tasks.html", rows=rows, q=q, status=status, page=page,
            has_next=has_next, since=request.args.get("since", "")[:10] if since else "",
            until=request.args.get("until", "")[:10] if until else "",
            sort="oldest" if oldest_first else "newest", labels=TASK_STATUS_LABELS,
            state=task_state, scheduled=scheduled_text, can_cancel=self._can("can_cancel"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        push = self._push_or_404(pk)  # read only: the sweep writes outcomes and counters
        status = request.args.get("status", "")
        status = status if status in RowStatus.__members__ else ""
        page = page_arg()
        principal = scope.current_principal()
        rows, total = queries.push_rows(db.session, principal, push, status=status,
                                        page=page)
        return self.render_template(
            "configs/task.html", push=push, rows=rows, total=total, status=status,
            page=page, has_next=page * queries.PAGE_SIZE < total, labels=ROW_STATUS_LABELS,
            state_label=TASK_STATUS_LABELS[task_state(push)], scheduled=scheduled_text(push),
            own_rows_only=principal.kind == AccountKind.enterprise,
            can_retry=self._can("can_retry") and push.failed > 0,
            can_cancel=self._can("can_cancel") and push.status == PushStatus.scheduled)

    @expose("/retry/<pk>", methods=["POST"])
    @has_access
    def retry(self, pk):
        """A new push of this task's failed devices."""
        push = self._push_or_404(pk)
        login, acting_as = actor()
        try:
            again = pushes.retry_failed(db.session, push, by=login, acting_as=acting_as)
        except rules.ConfigError as error:
            db.session.rollback()
            flash(message(error), "danger")
            return redirect(url_for(".show", pk=push.id))
        db.session.commit()
        wake_in_background(current_app._get_current_object(), again.id)
        flash(gettext("The %(n)s failed devices were pushed again.", n=again.devices),
              "success")
        return redirect(url_for(".show", pk=again.id))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        push = self._push_or_404(pk)
        try:
            pushes.cancel(db.session, push)
        except rules.ConfigError as error:
            db.session.rollback()
            flash(message(error), "danger")
        else:
            db.session.commit()
            flash(gettext("The timer task was cancelled."), "success")
        return redirect(url_for(".show", pk=push.id))
