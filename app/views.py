"""The registration of every view and menu link, grouped as the spec's menus are. Imported by
create_app() alone; the screens live in their domain packages, their base in app/core/views.py.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.accounts.views import AccountSettingsView, PasswordRecoveryView
from app.alarms.settings_views import AlarmSettingsView
from app.alarms.views import AlarmModelView, bell
from app.configs.task_views import ExecutedTaskView
from app.configs.views import ChannelConfigView, EnterpriseConfigView
from app.device_ops.diagnostics_views import DiagnosticsView
from app.device_ops.views import DeviceAccessView, DeviceModelView
from app.exports.views import ExportView
from app.orders.settings_views import OrderLimitModelView, PackageModelView
from app.orders.views import OrderModelView, StatementModelView
from app.system.feedback_views import FeedbackView
from app.system.outbox_views import OutboxModelView
from app.system.sub_account_views import SubAccountModelView
from app.system.views import OperationLogModelView, sub_accounts_menu_shown
from app.tenancy.acting_views import ActAsView, AuthorizationView, authorized_channels_menu_shown
from app.tenancy.rps_views import RpsDeviceModelView
from app.tenancy.views import ChannelModelView, EnterpriseModelView


def register_views(appbuilder):
    """Every view and menu link. The order of the calls is the order of the menus."""
    # --- no menu: account pages, password recovery, acting as another tenant -----------------
    appbuilder.add_view_no_menu(AccountSettingsView)
    appbuilder.add_view_no_menu(PasswordRecoveryView)
    appbuilder.add_view_no_menu(ActAsView)
    appbuilder.add_view_no_menu(FeedbackView)  # top right, beside the account menu
    # The device diagnostic page: opened from a device's page or an alarm (spec chapter 6).
    appbuilder.add_view_no_menu(DiagnosticsView)

    # --- System Management (the enterprise's Authorized Channels comes first) -----------------
    appbuilder.add_view(AuthorizationView, "Authorized Channels", icon="fa-handshake-o",
                        label=_l("Authorized Channels"), category="System Management",
                        category_label=_l("System Management"), category_icon="fa-cogs",
                        menu_cond=authorized_channels_menu_shown)

    # --- User Management (chapter 3) ------------------------------------------------------------
    appbuilder.add_view(ChannelModelView, "Channel Management", icon="fa-sitemap",
                        label=_l("Channel Management"), category="User Management",
                        category_label=_l("User Management"), category_icon="fa-users")
    appbuilder.add_view(EnterpriseModelView, "Enterprise Management", icon="fa-building",
                        label=_l("Enterprise Management"), category="User Management")

    # --- Device Management (chapter 4) ----------------------------------------------------------
    appbuilder.add_view(DeviceModelView, "Platform Device", icon="fa-phone",
                        label=_l("Platform Device"), category="Device Management",
                        category_label=_l("Device Management"), category_icon="fa-phone")

    # --- System Management: Sub account management, Operation Log (chapter 9) ----------------
    appbuilder.add_view(SubAccountModelView, "Sub account management", icon="fa-user-plus",
                        label=_l("Sub account management"), category="System Management",
                        category_label=_l("System Management"), category_icon="fa-cogs",
                        menu_cond=sub_accounts_menu_shown)
    appbuilder.add_view(OperationLogModelView, "Operation Log", icon="fa-list",
                        label=_l("Operation Log"), category="System Management",
                        category_label=_l("System Management"), category_icon="fa-cogs")

    # Troubleshooting (chapter 11): the platform administrator's mail outbox.
    appbuilder.add_view(OutboxModelView, "Mail Outbox", icon="fa-envelope",
                        label=_l("Mail Outbox"), category="System Management")

    # --- Device Management, continued ---------------------------------------------------------
    appbuilder.add_view(RpsDeviceModelView, "RPS Device", icon="fa-random",
                        label=_l("RPS Device"), category="Device Management")
    appbuilder.add_view(DeviceAccessView, "Device Access", icon="fa-key",
                        label=_l("Device Access"), category="Device Management")

    # --- Device Configuration (chapter 4, "Managing Configuration") ----------------------------
    config_menu = {"category": "Device Configuration", "category_label": _l("Device Configuration"),
                   "category_icon": "fa-sliders"}
    appbuilder.add_view(EnterpriseConfigView, "Enterprise Configuration", icon="fa-building-o",
                        label=_l("Enterprise Configuration"), **config_menu)
    appbuilder.add_view(ChannelConfigView, "Channel Configuration", icon="fa-sitemap",
                        label=_l("Channel Configuration"), **config_menu)
    appbuilder.add_view(ExecutedTaskView, "Executed Task", icon="fa-tasks",
                        label=_l("Executed Task"), **config_menu)

    # --- Alarm Management (chapter 5); the bell in every page's navbar ------------------------
    appbuilder.add_view(AlarmSettingsView, "Enterprise Alarm Settings", icon="fa-sliders",
                        label=_l("Enterprise Alarm Settings"), category="Alarm Management",
                        category_label=_l("Alarm Management"), category_icon="fa-bell")
    appbuilder.add_view(AlarmModelView, "Alarms", icon="fa-exclamation-triangle",
                        label=_l("Alarms"), category="Alarm Management")
    current_app.jinja_env.globals["alarm_bell"] = bell

    # --- Orders: Order Management, Statement Management, the vendor's settings (ch. 7, 8) ------
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
    appbuilder.add_view(ExportView, "Exports", icon="fa-download", label=_l("Exports"),
                        **orders_menu)
