"""Order Management and Statement Management (spec chapters 7 and 8).

Views parse and render. The rules are in app/orders/rules.py, what a list shows (and exports) in
app/orders/queries.py, exports in app/exports/jobs.py; scope comes from app/core/scope.py.
"""

import datetime
import secrets

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import scope
from app.core.listing import Col, ListFilter, RowAction, like_pattern
from app.core.scoped_view import ScopedInterface
from app.core.views import FastScopedModelView, fmt_time
from app.extensions import db
from app.models import Channel, Enterprise, Order, OrderEvent, Package, Status
from app.orders import rules as orders
from app.orders.queries import (
    ORDERS,
    STATEMENTS,
    STATUS_LABELS,
    apply_criteria,
    order_rows,
    parse_order_criteria,
    status_value,
)

ENTERPRISE_OPTIONS_MAX = 300  # more than this: the enterprise box searches as you type
STEP1_FIELDS = {"enterprise_id", "reseller"}


def _status_label(status):
    return _l(STATUS_LABELS[status_value(status)])


def _status_col():
    return Col("status", _l("Status"), lambda o: _status_label(o.status))


_STATUS_FILTER = [ListFilter(
    "status", _l("Status"), [(k, _l(v)) for k, v in STATUS_LABELS.items()],
    lambda q, v: q.where(Order.status == v))]


def _acting_name():
    """Who did it, for an order's history: the person, also while working in a tenant."""
    acting = g.get("ymcs_acting")
    return acting.actor_username if acting is not None else current_user.username


def _flash_order_error(error):
    flash(str(error), "danger")


class _OrderListView(FastScopedModelView):
    """The shared machinery of the two lists over orders: criteria from the query string
    (app/orders/queries.py), date ranges, the Export button and the order details page."""

    datamodel = ScopedInterface(Order)
    kind = ORDERS
    ranges = ("ordered", "expires")
    fast_list_template = "orders/list.html"
    list_filters = _STATUS_FILTER
    default_sort = ("id", True)

    def list_base_query(self):
        return order_rows()

    def list_count_query(self):
        return scope.visible_orders(select(Order.id))

    def _criteria(self):
        cached = g.get("_ymcs_order_criteria")
        if cached is None:
            cached = g._ymcs_order_criteria = parse_order_criteria(request.args, self.ranges)
        return cached

    def parse_list_request(self):
        req = super().parse_list_request()
        criteria, _errors = self._criteria()
        # The ranges are filters too: the remembered "more than" count is kept per filters.
        for key in self.ranges:
            for end in ("from", "to"):
                day = getattr(criteria, f"{key}_{end}")
                if day:
                    req.filters[f"{key}_{end}"] = day.isoformat()
        return req

    def apply_search(self, query, req):
        criteria, _errors = self._criteria()
        return apply_criteria(query, criteria, self.kind)

    def list_extra_context(self, req):
        _criteria, errors = self._criteria()
        return {
            "criteria_errors": [gettext(template, **params) for template, params in errors],
            "ranges": self.ranges,
            "range_values": {k: request.args.get(k, "") for k in self._range_args()},
            "export_args": {k: v for k, v in request.args.items()
                            if k not in ("after", "before", "last", "psize")},
            "can_export": self.appbuilder.sm.has_access("can_export",
                                                        self.class_permission_name),
            "export_label": self.export_label,
        }

    def _range_args(self):
        return [f"{key}_{end}" for key in self.ranges for end in ("from", "to")]

    @expose("/export", methods=["POST"])
    @has_access
    def export(self):
        """Export what the list shows now (its search, status and dates) to Excel."""
        criteria, errors = parse_order_criteria(request.form, self.ranges)
        if not request.form.get("sort"):  # the list's own default order, as it shows it
            criteria.sort, criteria.desc = self.default_sort
        back = {k: v for k, v in request.form.items() if k != "csrf_token"}
        if errors:
            for template, params in errors:
                flash(gettext(template, **params), "danger")
            return redirect(url_for(".list", **back))
        from app.exports import jobs as export_jobs

        job = export_jobs.request_export(
            db.session, current_user.id, scope.current_principal(), self.kind, criteria,
            str(get_locale() or "en"))
        db.session.commit()
        return redirect(url_for("ExportView.show", pk=job.id))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        order = scope.get_or_404(db.session, Order, pk)
        events = db.session.execute(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).scalars().all()
        refusal = orders.cancellation_refusal(order)
        may_cancel = refusal is None and self.appbuilder.sm.has_access(
            "cancel", "OrderModelView")
        return render_template(
            "orders/show.html", appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template, order=order, events=events,
            status=_status_label(order.status),
            last_day=orders.last_day_of_service(order.expires_on),
            refusal=gettext(refusal, id=order.id) if refusal else None,
            may_cancel=may_cancel, list_url=url_for(".list"))


class OrderModelView(_OrderListView):
    noun = _l("Order")  # Add Order says more (_placed)
    list_title = _l("Order Management")
    export_label = _l("Export Order")
    base_permissions = ["can_list", "can_show", "can_add", "can_export", "can_enterprises"]
    list_cols = [
        Col("id", _l("Order ID"), lambda o: o.id, Order.id),
        Col("created_on", _l("Order Time"), lambda o: fmt_time(o.created_on), Order.created_on),
        Col("enterprise_name", _l("Enterprise"), lambda o: o.enterprise_name),
        Col("distributor", _l("Distributor"), lambda o: o.distributor),
        Col("reseller", _l("Reseller"), lambda o: o.reseller),
        Col("package_name", _l("Package"), lambda o: f"{o.package_name} × {o.quantity}"),
        Col("max_devices", _l("Max Devices"), lambda o: o.max_devices),
        Col("duration_months", _l("Service Duration (months)"), lambda o: o.duration_months,
            Order.duration_months),
        Col("expires_on", _l("Expiration Date"),
            lambda o: orders.last_day_of_service(o.expires_on).isoformat(), Order.expires_on),
        _status_col(),
    ]
    row_actions = [
        RowAction("cancel", _l("Cancel order"), "fa-times", ".action", {"name": "cancel"},
                  visible=lambda o: orders.cancellation_refusal(o) is None,
                  confirm=_l("Cancel this order? It will not take effect.")),
    ]

    @action("cancel", _l("Cancel order"), _l("Cancel this order? It will not take effect."),
            "fa-times", multiple=False)
    def cancel(self, item):
        try:
            orders.cancel_order(db.session, item, by=_acting_name())
        except orders.OrderError as error:
            db.session.rollback()
            _flash_order_error(error)
        else:
            db.session.commit()
            flash(gettext("Order %(id)s was cancelled.", id=item.id), "success")
        return redirect(url_for(".show", pk=item.id))

    # -- Add Order: (1) enterprise and reseller, (2) package, (3) confirm -------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = request.form
        step = form.get("step", "1") if request.method == "POST" else "start"
        principal = scope.current_principal()
        values = {k: (form.get(k) or "").strip() for k in (
            "enterprise_id", "reseller", "package_id", "quantity", "duration_months",
            "effective_on", "request_key")}
        if form.get("back") == "1":
            return self._render_step1(values)
        if form.get("back") == "2":
            return self._render_step2(values, self._chosen_enterprise(values))
        try:
            if step == "start":
                if principal.is_channel and principal.channel_id:
                    # Say it before anything is typed, not after two steps.
                    orders.check_order_limit(db.session,
                                             db.session.get(Channel, principal.channel_id))
                return self._render_step1(values)
            enterprise, _reseller = orders.choose_enterprise(
                db.session, principal, values["enterprise_id"], values["reseller"])
            if step == "1":
                orders.check_order_limit(db.session, orders.distributor_of(
                    db.session, principal, enterprise))
                return self._render_step2(values, enterprise)
            if step == "2":
                chosen = orders.choose_package(
                    db.session, values["package_id"], values["quantity"],
                    values["duration_months"], values["effective_on"])
                return self._render_confirm(values, enterprise, *chosen)
            if step == "3":
                return self._place(principal, values)
        except orders.OrderError as error:
            db.session.rollback()
            # Every invalid field at once, each at its field; other refusals above the form.
            errors = {k: str(e) for k, e in getattr(error, "errors", {}).items()}
            if errors:
                flash(gettext("Correct the marked fields."), "danger")
            else:
                _flash_order_error(error)
            # At its limit a channel can do nothing here: step 1 says so, its form disabled.
            blocked = isinstance(error, orders.LimitReached) and principal.is_channel
            status = 200 if step == "start" else 400
            if step in ("start", "1") or blocked or errors.keys() & STEP1_FIELDS:
                return self._render_step1(values, status=status, errors=errors,
                                          blocked=blocked)
            return self._render_step2(values, self._chosen_enterprise(values), status=400,
                                      errors=errors)
        abort(400, description="Unknown step.")

    def _place(self, principal, values):
        key = values["request_key"][:32] or None
        try:
            order = orders.place_order(
                db.session, principal, enterprise_id=values["enterprise_id"],
                reseller=values["reseller"], package_id=values["package_id"],
                quantity=values["quantity"], duration_months=values["duration_months"],
                effective_on=values["effective_on"], by=_acting_name(), request_key=key)
            db.session.commit()
        except IntegrityError:
            # The same confirmation submitted twice at once: the other request placed it.
            db.session.rollback()
            order = db.session.execute(
                select(Order).where(Order.request_key == key)).scalar() if key else None
            if order is None or not scope.can_access(db.session, Order, order.id):
                raise
        return self._placed(order)

    def _chosen_enterprise(self, values):
        try:
            return scope.get_or_raise(db.session, Enterprise, values["enterprise_id"])
        except scope.OutOfScope:
            return None

    def _placed(self, order):
        if order.enterprise.email:
            flash(gettext("Order %(id)s was placed; its details were mailed to %(email)s.",
                          id=order.id, email=order.enterprise.email), "success")
        else:
            flash(gettext("Order %(id)s was placed. %(name)s has no registered email, so no "
                          "mail was sent.", id=order.id, name=order.enterprise.name), "warning")
        return redirect(url_for(".show", pk=order.id))

    def _render(self, template, status=200, **context):
        return render_template(template, appbuilder=self.appbuilder,
                               base_template=self.appbuilder.base_template,
                               list_url=url_for(".list"), **context), status

    def _render_step1(self, values, status=200, errors=None, blocked=False):
        query = scope.visible_enterprises(
            select(Enterprise.id, Enterprise.name)
            .where(Enterprise.status == Status.active)
            .order_by(Enterprise.name).limit(ENTERPRISE_OPTIONS_MAX + 1))
        options = db.session.execute(query).all()
        searching = len(options) > ENTERPRISE_OPTIONS_MAX
        chosen = self._chosen_enterprise(values) if values["enterprise_id"] else None
        return self._render("orders/add_step1.html", status, values=values,
                            options=[] if searching else options, searching=searching,
                            chosen=chosen, errors=errors or {}, blocked=blocked)

    def _render_step2(self, values, enterprise, status=200, errors=None):
        if enterprise is None:
            return self._render_step1(values, status=400)
        packages = db.session.execute(
            select(Package).where(Package.active.is_(True)).order_by(Package.name)
        ).scalars().all()
        if not packages:
            flash(gettext("No packages are offered yet: the platform administrator defines "
                          "them."), "warning")
        today = orders.today()
        values = {**values, "effective_on": values["effective_on"] or today.isoformat(),
                  "quantity": values["quantity"] or "1"}
        return self._render("orders/add_step2.html", status, values=values,
                            enterprise=enterprise, packages=packages, today=today,
                            latest=today + datetime.timedelta(days=orders.MAX_DAYS_AHEAD),
                            max_quantity=orders.MAX_QUANTITY,
                            max_duration=orders.MAX_DURATION_MONTHS, errors=errors or {})

    def _render_confirm(self, values, enterprise, package, quantity, duration, effective_on):
        expires_on = orders.expiry_of(effective_on, duration)
        values = {**values, "quantity": str(quantity), "duration_months": str(duration),
                  "effective_on": effective_on.isoformat(),
                  "request_key": values["request_key"] or secrets.token_hex(16)}
        return self._render("orders/confirm.html", values=values, enterprise=enterprise,
                            package=package, quantity=quantity, duration=duration,
                            effective_on=effective_on, max_devices=package.max_devices * quantity,
                            last_day=orders.last_day_of_service(expires_on))

    @expose("/enterprises", methods=["GET"])
    @has_access
    def enterprises(self):
        """Select2's search: active enterprises in scope whose name starts with ``q``."""
        q = (request.args.get("q") or "").strip()[:128]
        query = select(Enterprise.id, Enterprise.name).where(Enterprise.status == Status.active)
        if q:
            query = query.where(Enterprise.name.like(like_pattern(q), escape="\\"))
        rows = db.session.execute(
            scope.visible_enterprises(query).order_by(Enterprise.name).limit(21)).all()
        return jsonify(results=[{"id": r.id, "text": r.name} for r in rows[:20]],
                       pagination={"more": len(rows) > 20})


class StatementModelView(_OrderListView):
    kind = STATEMENTS
    ranges = ("ordered",)
    list_title = _l("Statement Management")
    export_label = _l("Export Statement")
    base_permissions = ["can_list", "can_show", "can_export"]
    list_cols = [
        Col("id", _l("Order ID"), lambda o: o.id, Order.id),
        Col("created_on", _l("Order Time"), lambda o: fmt_time(o.created_on), Order.created_on),
        Col("enterprise_name", _l("Enterprise"), lambda o: o.enterprise_name),
        Col("content", _l("Order Content"),
            lambda o: gettext("%(package)s × %(quantity)s (%(devices)s devices)",
                              package=o.package_name, quantity=o.quantity,
                              devices=o.max_devices)),
        _status_col(),
        Col("duration_months", _l("Duration (months)"), lambda o: o.duration_months,
            Order.duration_months),
    ]
    default_sort = ("created_on", True)

