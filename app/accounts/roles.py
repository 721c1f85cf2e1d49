"""Role definitions, in code. `flask ymcs init` syncs them into FAB's (editable) role tables.

Each role is a list of (view pattern, permission pattern) pairs; a permission-view in the
database belongs to the role when both anchored patterns match it. Admin holds every
permission-view. Sync sets each defined role to exactly its definition, as Superset's `init`
does: to customise, copy a role in the role screens under another name.
"""

from flask_babel import lazy_gettext as _l

ADMIN = "Admin"
CHANNEL_ADMIN = "Channel Admin"
CHANNEL_FINANCE = "Channel Finance"
CHANNEL_DEVICE_OPERATOR = "Channel Device Operator"
ENTERPRISE_ADMIN = "Enterprise Admin"
RPS_ENTERPRISE_ADMIN = "RPS Enterprise Admin"

# Role names as a user reads them (a role made in the role screens shows its own name).
ROLE_NAMES = {
    ADMIN: _l("Platform administrator"), CHANNEL_ADMIN: _l("Channel administrator"),
    CHANNEL_FINANCE: _l("Channel finance"),
    CHANNEL_DEVICE_OPERATOR: _l("Channel device operator"),
    ENTERPRISE_ADMIN: _l("Enterprise administrator"),
    RPS_ENTERPRISE_ADMIN: _l("RPS enterprise administrator"), "Public": _l("Public"),
}


def role_label(name):
    return ROLE_NAMES.get(name, name)


# Everyone who logs in may see and edit their own account and change their password.
# (FAB's own "reset my password" asks no old password: ours replaces it.)
_OWN_ACCOUNT = [
    ("AccountSettingsView", "can_(settings|password)"),
    ("FeedbackView", "can_send"),  # Feedback, top right
]
_CRUD = "can_(list|show|add|edit|delete)"
# Order Management and Statement Management with their Excel exports (spec chapters 7, 8).
_ORDERS = [
    ("OrderModelView", "can_(list|show|add|export|enterprises)|cancel"),
    ("StatementModelView", "can_(list|show|export)"),
    ("ExportView", "can_(list|show|download)"),
    ("Orders", "menu_access"),
    ("(Order Management|Statement Management|Exports)", "menu_access"),
]

# Device Configuration (spec chapter 4): templates, Save and Push, executed tasks.
_CONFIGS = [
    ("(EnterpriseConfigView|ChannelConfigView)", "can_(list|add|edit|delete|download|push)"),
    ("ExecutedTaskView", "can_(list|show|retry|cancel)"),
    ("Device Configuration", "menu_access"),
    ("(Enterprise Configuration|Channel Configuration|Executed Task)", "menu_access"),
]

# Alarm Management (spec chapter 5): the list with its actions; the settings for channels.
_ALARMS = [
    ("AlarmModelView", "can_(list|show)|acknowledge|clear"),
    ("Alarm Management", "menu_access"),
    ("Alarms", "menu_access"),
]
_ALARM_SETTINGS = [
    ("AlarmSettingsView", "can_(list|edit)"),
    ("Enterprise Alarm Settings", "menu_access"),
]

ROLE_DEFINITIONS = {
    CHANNEL_ADMIN: _OWN_ACCOUNT
    + [
        ("ChannelModelView", _CRUD + "|freeze|unfreeze|resetpassword"),
        ("EnterpriseModelView", _CRUD + "|freeze|unfreeze|resetpassword"),
        ("DeviceModelView", "can_(list|show|command)"),
        ("DiagnosticsView", "can_(show|run)"),
        ("DeviceAccessView", "can_(show|generate)"),
        ("RpsDeviceModelView", "can_(list|show)"),
        ("OperationLogModelView", "can_(list|show)"),
        ("ActAsView", "can_(enterprise|channel)"),
        # Only a master account gets past app/system/rules.may_manage_sub_accounts.
        ("SubAccountModelView", _CRUD + "|resetpassword|delete"),
        ("Sub account management", "menu_access"),
        ("(User Management|Device Management|System Management)", "menu_access"),
        ("(Channel Management|Enterprise Management|Platform Device|Operation Log)", "menu_access"),
        ("Device Access", "menu_access"),
        ("RPS Device", "menu_access"),
    ]
    + _CONFIGS + _ALARMS + _ALARM_SETTINGS
    + _ORDERS,
    # Orders and statements only.
    CHANNEL_FINANCE: _OWN_ACCOUNT + _ORDERS,
    # Devices of the granted enterprises: the list, commands, access, RPS devices.
    CHANNEL_DEVICE_OPERATOR: _OWN_ACCOUNT
    + [
        ("DeviceModelView", "can_(list|show|command)"),
        ("DeviceAccessView", "can_(show|generate)"),
        ("RpsDeviceModelView", "can_(list|show)"),
        ("Device Management", "menu_access"),
        ("(Platform Device|Device Access|RPS Device)", "menu_access"),
    ]
    + _CONFIGS + _ALARMS,
    ENTERPRISE_ADMIN: _OWN_ACCOUNT
    + [
        ("DeviceModelView", "can_(list|show|command)"),
        ("DiagnosticsView", "can_(show|run)"),
        ("DeviceAccessView", "can_(show|generate)"),
        ("OperationLogModelView", "can_(list|show)"),
        ("AuthorizationView", "can_(channels|prompt|answer)"),
        ("(Device Management|System Management)", "menu_access"),
        ("(Platform Device|Device Access|Operation Log|Authorized Channels)", "menu_access"),
        # The pushes that reached its own devices (read only).
        ("ExecutedTaskView", "can_(list|show)"),
        ("(Device Configuration|Executed Task)", "menu_access"),
    ]
    + _ALARMS,
    RPS_ENTERPRISE_ADMIN: _OWN_ACCOUNT
    + [
        ("DeviceModelView", "can_(list|show)"),
        ("RpsDeviceModelView", _CRUD),
        ("(Device Management|Platform Device)", "menu_access"),
        ("RPS Device", "menu_access"),
    ],
}


def role_grants(role_name, view_name, permission_name):
    """Whether the code definition of role_name includes (permission_name, view_name)."""
    import re

    for view_pattern, permission_pattern in ROLE_DEFINITIONS.get(role_name, []):
        if re.match(f"(?:{view_pattern})$", view_name) and re.match(
            f"(?:{permission_pattern})$", permission_name
        ):
            return True
    return False
