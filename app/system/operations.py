"""Names a person can read for the operations app/core/oplog.py records (it stores the
endpoint, with ":<action>" for FAB's row and bulk actions), in English and Chinese.

OPERATION_TYPES is also the Operation Log's "operation type" filter: each type lists the
stored operation strings it covers. An operation nobody named here shows its endpoint.
"""

from flask_babel import lazy_gettext as _l


def _action(view, name):
    # A row button posts to .action, a bulk action to .action_post: the same operation.
    return [f"{view}.action:{name}", f"{view}.action_post:{name}"]


def _crud(view, add, edit, delete):
    return [(f"{view}:add", add, [f"{view}.add"]),
            (f"{view}:edit", edit, [f"{view}.edit"]),
            (f"{view}:delete", delete, [f"{view}.delete"] + _action(view, "muldelete"))]


# (key, label, stored operations), in the order of the menus.
OPERATION_TYPES = [
    ("login", _l("Sign in"), ["YmcsAuthDBView.login", "AuthDBView.login"]),
    ("logout", _l("Sign out"), ["YmcsAuthDBView.logout", "AuthDBView.logout"]),
    ("settings", _l("Change account settings"), ["AccountSettingsView.settings"]),
    ("password", _l("Change password"), ["AccountSettingsView.password"]),
    ("forgot", _l("Forgotten password"), ["PasswordRecoveryView.forgot",
                                          "PasswordRecoveryView.reset"]),
    *_crud("ChannelModelView", _l("Add channel"), _l("Edit channel"), _l("Delete channel")),
    ("ChannelModelView:freeze", _l("Freeze channel"), _action("ChannelModelView", "freeze")),
    ("ChannelModelView:unfreeze", _l("Unfreeze channel"),
     _action("ChannelModelView", "unfreeze")),
    ("ChannelModelView:resetpassword", _l("Reset channel password"),
     _action("ChannelModelView", "resetpassword")),
    *_crud("EnterpriseModelView", _l("Add enterprise"), _l("Edit enterprise"),
           _l("Delete enterprise")),
    ("EnterpriseModelView:freeze", _l("Freeze enterprise"),
     _action("EnterpriseModelView", "freeze")),
    ("EnterpriseModelView:unfreeze", _l("Unfreeze enterprise"),
     _action("EnterpriseModelView", "unfreeze")),
    ("EnterpriseModelView:resetpassword", _l("Reset enterprise password"),
     _action("EnterpriseModelView", "resetpassword")),
    ("act_as", _l("Go to the platform"), ["ActAsView.channel", "ActAsView.enterprise"]),
    ("act_as_stop", _l("Return from the platform"), ["ActAsView.stop"]),
    ("authorization", _l("Answer channel authorization"), ["AuthorizationView.answer"]),
    ("device_add", _l("Add device"), ["DeviceModelView.add", "DeviceModelView.register"]),
    ("device_remove", _l("Remove device"), ["DeviceModelView.remove",
                                            "DeviceModelView.delete"]),
    ("device_command", _l("Device command"), ["DeviceModelView.command",
                                              "DeviceModelView.retry"]),
    ("device_access", _l("Generate device access"), ["DeviceAccessView.generate"]),
    *_crud("RpsDeviceModelView", _l("Add RPS device"), _l("Edit RPS device"),
           _l("Delete RPS device")),
    ("order_add", _l("Add order"), ["OrderModelView.add"]),
    ("order_cancel", _l("Cancel order"), _action("OrderModelView", "cancel")),
    ("export", _l("Export"), ["OrderModelView.export", "StatementModelView.export"]),
    *_crud("PackageModelView", _l("Add package"), _l("Edit package"), _l("Delete package")),
    *_crud("OrderLimitModelView", _l("Add order limit"), _l("Edit order limit"),
           _l("Delete order limit")),
    ("SubAccountModelView:add", _l("Add sub account"), ["SubAccountModelView.add"]),
    ("SubAccountModelView:edit", _l("Edit sub account"), ["SubAccountModelView.edit"]),
    ("SubAccountModelView:delete", _l("Delete sub account"),
     ["SubAccountModelView.delete"] + _action("SubAccountModelView", "delete")),
    ("SubAccountModelView:resetpassword", _l("Reset sub account password"),
     _action("SubAccountModelView", "resetpassword")),
    ("feedback", _l("Send feedback"), ["FeedbackView.send"]),
    ("mail_resend", _l("Resend mail"), _action("OutboxModelView", "resend")),
    *_crud("RoleModelView", _l("Add role"), _l("Edit role"), _l("Delete role")),
    *_crud("AccountModelView", _l("Add user"), _l("Edit user"), _l("Delete user")),
]

_TYPES = {key: operations for key, _label, operations in OPERATION_TYPES}
_NAMES = {operation: label for _key, label, operations in OPERATION_TYPES
          for operation in operations}


def operation_label(operation):
    """The readable name of a stored operation, or the operation itself."""
    return _NAMES.get(operation, operation)


def operations_of(type_key):
    """The stored operations an operation type covers; [] for an unknown type."""
    return _TYPES.get(type_key, [])


def type_choices():
    return [(key, label) for key, label, _ops in OPERATION_TYPES]
