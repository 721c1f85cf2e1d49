"""Back-office screens. Views only declare; rules live in app/tenants.py and app/scope.py."""

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
from .form_fields import choices
from .listing import Col, FastListMixin, ListFilter
from .models import OperationLog
from .scoped_view import ScopedInterface, ScopedModelView

COUNTRY_CHOICES = choices([("", "")] + sorted(
    ((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1]
))


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
    from .device_ops.views import DeviceAccessView, DeviceModelView
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
    appbuilder.add_view(DeviceAccessView, "Device Access", icon="fa-key",
                        label=_l("Device Access"), category="Device Management")
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
