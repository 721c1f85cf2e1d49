"""What Flask-AppBuilder writes by itself, in the user's language.

FAB makes a view's titles ("Add Enterprise", "Show Operation Log") and its column labels
("Created On", "Is Channel Own") from class and column names, as plain English strings, and
its show page prints raw values (True, None, device_management, "US"). After the views are
registered, ``translate_view_defaults`` turns each such default into a lazy string translated
at render time, and gives every show column without a formatter of its own one that reads like
the lists (Yes/No, the value's label, dates to the minute, the country's name in the user's
language). A screen that sets its own titles, labels or formatters keeps them.
"""

import datetime
import enum

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.core import UnboundField

from app.accounts.roles import role_label
from app.core.show import ReadableShowMixin, country_name

# The names FAB derives from our models and its own (prettified class names).
MODEL_NAMES = {
    "User": _l("User"), "Role": _l("Role"), "Group": _l("Group"),
    "Base Permission": _l("Base Permission"), "View Menu": _l("View Menu"),
    "Permission on Views/Menus": _l("Permission on Views/Menus"),
    "Channel": _l("Channel"), "Enterprise": _l("Enterprise"), "Device": _l("Device"),
    "Account": _l("Account"), "Operation Log": _l("Operation Log"),
    "Outbox Message": _l("Mail"), "RPS Device": _l("RPS Device"), "Alarm": _l("Alarm"),
    "Order": _l("Order"), "Package": _l("Package"), "Order Limit": _l("Order Limit"),
}
TITLES = {"list": _l("%(name)s List"), "add": _l("Add %(name)s"),
          "edit": _l("Edit %(name)s"), "show": _l("%(name)s Details")}
FAB_TITLE_PREFIX = {"list": "List ", "add": "Add ", "edit": "Edit ", "show": "Show "}

# Column labels FAB prettifies from column names, on the screens users open.
LABELS = [
    _l("Actor Username"), _l("Address"), _l("Authorization"), _l("Changed On"),
    _l("Channel"), _l("Contact"), _l("Country"), _l("Created On"), _l("Description"),
    _l("Email"), _l("Enterprise"), _l("Failed Login Count"), _l("First Name"), _l("Groups"),
    _l("Ip"), _l("Is Channel Own"), _l("Kind"), _l("Label"), _l("Language"),
    _l("Last Login"), _l("Last Name"), _l("Locked Until"), _l("Login Count"), _l("Method"),
    _l("Must Change Password"), _l("Name"), _l("Operation"), _l("Path"), _l("Phone"),
    _l("Result"), _l("Role"), _l("Roles"), _l("Status"), _l("Status Code"), _l("Tenant"),
    _l("User"), _l("Username"), _l("Users"), _l("Active"), _l("Changed By"),
    _l("Created By"), _l("Permission"), _l("View Menu"), _l("Package"), _l("Quantity"),
    _l("Reseller"), _l("Model"), _l("Firmware"), _l("Serial"), _l("Severity"),
]

# FAB's security menu entries our menu template translates.
MENU_LABELS = [_l("List Users"), _l("List Roles"), _l("List Groups")]


# Stored values and the words users read for them (enums, the operation log's result,
# account languages).
VALUES = {
    "active": _l("Active"), "frozen": _l("Frozen"),
    "device_management": _l("Device Management"), "rps": _l("RPS"),
    "pending": _l("Pending"), "accepted": _l("Authorized"), "rejected": _l("Not authorized"),
    "platform": _l("Platform administrator"), "channel_master": _l("Channel master account"),
    "channel_sub": _l("Channel sub-account"), "enterprise": _l("Enterprise account"),
    "success": _l("Success"), "failure": _l("Failure"),
    "en": "English", "zh": "简体中文",
}


def lazy_country_name(code):
    return LazyString(country_name, code)


def readable(value):
    """A show page's cell, as the lists write it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(readable(item)) for item in value) or "—"
    if type(value).__name__ == "Role":
        return str(role_label(value.name))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and value in VALUES:
        return str(VALUES[value])
    return value


def _lazy(text):
    """A plain English default as a lazy string (our catalog's translation, else itself)."""
    return _l(text) if type(text) is str else text


def _title(kind, pretty):
    name = MODEL_NAMES.get(pretty, pretty)
    return LazyString(lambda: gettext(str(TITLES[kind]), name=str(name)))


def _translate_form_labels(form_class):
    for klass in getattr(form_class, "__mro__", ()):
        for value in vars(klass).values():
            if not isinstance(value, UnboundField):
                continue
            if "label" in value.kwargs:
                value.kwargs["label"] = _lazy(value.kwargs["label"])
            elif value.args and type(value.args[0]) is str:
                value.args = (_lazy(value.args[0]), *value.args[1:])


def translate_view_defaults(appbuilder):
    for view in appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if datamodel is None or not hasattr(view, "add_title"):
            continue
        pretty = view._prettify_name(datamodel.model_name)
        for kind, prefix in FAB_TITLE_PREFIX.items():
            if getattr(view, f"{kind}_title") == prefix + pretty:
                setattr(view, f"{kind}_title", _title(kind, pretty))
        if view.title == f"List {pretty}":
            view.title = view.list_title
        view.label_columns = {k: _lazy(v) for k, v in (view.label_columns or {}).items()}
        for name in ("add_form", "edit_form", "search_form"):
            _translate_form_labels(getattr(view, name, None))
        if isinstance(view, ReadableShowMixin):
            continue  # its show page reads like its list already (app/core/show.py)
        formatters = dict(view.formatters_columns or {})
        for column in view.show_columns or []:
            if column in formatters:
                continue
            formatters[column] = lazy_country_name if column == "country" else readable
        view.formatters_columns = formatters
