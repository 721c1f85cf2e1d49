"""Back-office screens. Views only declare; rules live in app/tenants.py and app/scope.py."""

import dataclasses

import pycountry
from flask import redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from . import scope
from .listing import Col, FastListMixin, ListFilter, like_pattern
from .models import Device, Enterprise, OperationLog
from .scoped_view import ScopedInterface, ScopedModelView

COUNTRY_CHOICES = [("", "")] + sorted(
    ((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1]
)


def _country_field():
    return SelectField(_l("Country/Area"), choices=COUNTRY_CHOICES, validators=[Optional()],
                       widget=Select2Widget())


def _flag(label):
    # FAB makes a NOT NULL boolean a *required* checkbox, so "no" could never be submitted.
    return BooleanField(label, default=False)


def _fmt_time(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class FastScopedModelView(FastListMixin, ScopedModelView):
    page_size = 50

    @expose("/list/")
    @has_access
    def list(self):
        return self.render_fast_list()

    # The fast list keeps no FAB page history: after a save, go back to the list.
    def post_add_redirect(self):
        return redirect(url_for(".list"))

    def post_edit_redirect(self):
        return redirect(url_for(".list"))

    def post_delete_redirect(self):
        return redirect(url_for(".list"))


class DeviceModelView(FastScopedModelView):
    datamodel = ScopedInterface(Device)
    list_title = _l("Platform Device")
    base_permissions = ["can_list", "can_show"]
    list_cols = [
        Col("mac", _l("MAC"), lambda d: d.mac, Device.mac),
        Col("model", _l("Model"), lambda d: d.model, Device.model),
        Col("firmware", _l("Firmware"), lambda d: d.firmware),
        Col("ip", _l("IP Address"), lambda d: d.ip),
        Col("online", _l("Status"), lambda d: _l("Online") if d.online else _l("Offline")),
        Col("enterprise", _l("Enterprise"), lambda d: d.enterprise_name or ""),
        Col("last_seen", _l("Last Seen"), lambda d: _fmt_time(d.last_seen)),
    ]
    search_exprs = [Device.mac, Device.model, Device.ip]
    list_filters = [ListFilter("online", _l("Status"), [("1", _l("Online")), ("0", _l("Offline"))],
                               lambda q, v: q.where(Device.online == (v == "1")))]
    show_columns = ["mac", "model", "firmware", "ip", "enterprise", "online", "last_seen",
                    "created_on"]

    def parse_list_request(self):
        req = super().parse_list_request()
        # People type MACs with separators and capitals; they are stored bare and lowercase.
        compact = req.q.replace(":", "").replace("-", "").lower()
        if compact and all(ch in "0123456789abcdef" for ch in compact):
            req.q = compact
        return req

    def apply_search(self, query, req):
        # What looks like a MAC is searched as one: OR-ing it with model and IP made every
        # MAC search scan the table (3 s at 1M devices); each column alone uses its index.
        if req.q and all(ch in "0123456789abcdef" for ch in req.q):
            query = query.where(Device.mac.like(like_pattern(req.q), escape="\\"))
            req = dataclasses.replace(req, q="")
        return super().apply_search(query, req)

    def list_base_query(self):
        # Plain rows, not Device objects: the biggest list skips the ORM's object building.
        query = select(Device.id, Device.mac, Device.model, Device.firmware, Device.ip,
                       Device.online, Device.last_seen,
                       Enterprise.name.label("enterprise_name")).outerjoin(Device.enterprise)
        return scope.visible_devices(query)

    def list_count_query(self):
        return scope.visible_devices(select(Device.id))


class OperationLogModelView(FastScopedModelView):
    datamodel = ScopedInterface(OperationLog)
    list_title = _l("Operation Log")
    base_permissions = ["can_list", "can_show"]
    list_cols = [
        Col("created_on", _l("Time"), lambda o: _fmt_time(o.created_on)),
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


def register_views(appbuilder):
    """Every view and menu link, grouped as the spec's menus are."""
    from .acting_views import ActAsView, AuthorizationView, authorized_channels_menu_shown
    from .auth_views import AccountSettingsView, PasswordRecoveryView
    from .tenant_views import ChannelModelView, EnterpriseModelView

    appbuilder.add_view_no_menu(AccountSettingsView)
    appbuilder.add_view_no_menu(PasswordRecoveryView)
    appbuilder.add_view_no_menu(ActAsView)
    appbuilder.add_view(AuthorizationView, "Authorized Channels", icon="fa-handshake-o",
                        label=_l("Authorized Channels"), category="System Management",
                        category_label=_l("System Management"), category_icon="fa-cogs",
                        menu_cond=authorized_channels_menu_shown)
    appbuilder.add_view(ChannelModelView, "Channel Management", icon="fa-sitemap",
                        label=_l("Channel Management"), category="User Management",
                        category_label=_l("User Management"), category_icon="fa-users")
    appbuilder.add_view(EnterpriseModelView, "Enterprise Management", icon="fa-building",
                        label=_l("Enterprise Management"), category="User Management")
    appbuilder.add_view(DeviceModelView, "Platform Device", icon="fa-phone",
                        label=_l("Platform Device"), category="Device Management",
                        category_label=_l("Device Management"), category_icon="fa-phone")
    appbuilder.add_view(OperationLogModelView, "Operation Log", icon="fa-list",
                        label=_l("Operation Log"), category="System Management",
                        category_label=_l("System Management"), category_icon="fa-cogs")
    from .rps_views import RpsDeviceModelView  # it builds on this module's base view

    appbuilder.add_view(RpsDeviceModelView, "RPS Device", icon="fa-random",
                        label=_l("RPS Device"), category="Device Management")
    register_order_views(appbuilder)


def register_order_views(appbuilder):
    """Order Management, Statement Management and the vendor's order settings (chapter 7, 8)."""
    from .order_settings_views import OrderLimitModelView, PackageModelView
    from .order_views import OrderModelView, StatementModelView

    orders_menu = {"category": "Orders", "category_label": _l("Orders"),
                   "category_icon": "fa-shopping-cart"}
    appbuilder.add_view(OrderModelView, "Order Management", icon="fa-file-text-o",
                        label=_l("Order Management"), **orders_menu)
    appbuilder.add_view(StatementModelView, "Statement Management", icon="fa-list-alt",
                        label=_l("Statement Management"), **orders_menu)
    appbuilder.add_view(PackageModelView, "Packages", icon="fa-cubes", label=_l("Packages"),
                        **orders_menu)
    appbuilder.add_view(OrderLimitModelView, "Order Limits", icon="fa-tachometer",
                        label=_l("Order Limits"), **orders_menu)
    from .export_views import ExportView

    appbuilder.add_view(ExportView, "Exports", icon="fa-download", label=_l("Exports"),
                        **orders_menu)
