"""Detail pages that read like the lists: every FAB show page goes through ``ReadableShowMixin``.

FAB prints a column's raw Python value (``True``, ``None``, ``Status.active``, microsecond
timestamps), labels a column it was not told about by its attribute name ("Is Channel Own")
and offers every action of the view (Freeze beside Unfreeze). Here a show page takes the
list's own cell for a column the list has, a readable rendering of the raw value otherwise,
the list's label when the view gave none, and only the actions whose row button would show.
"""

import datetime
import enum

from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.accounts.roles import role_label
from app.models import AccountKind, Authorization, OutboxStatus, PermissionType, Status

EMPTY = "—"

# Values of our enums as people say them (the lists say the same).
ENUM_LABELS = {
    Status.active: _l("Active"), Status.frozen: _l("Frozen"),
    PermissionType.device_management: _l("Device Management"), PermissionType.rps: _l("RPS"),
    Authorization.pending: _l("Pending"), Authorization.accepted: _l("Authorized"),
    Authorization.rejected: _l("Not authorized"),
    AccountKind.platform: _l("Platform administrator"),
    AccountKind.channel_master: _l("Channel administrator"),
    AccountKind.channel_sub: _l("Channel sub account"),
    AccountKind.enterprise: _l("Enterprise account"),
    OutboxStatus.pending: _l("Pending"), OutboxStatus.sent: _l("Sent"),
    OutboxStatus.failed: _l("Failed"),
}

# Labels of columns many models share, for views that did not name them.
COMMON_LABELS = {
    "status": _l("Status"), "contact": _l("Contact"), "phone": _l("Phone"),
    "country": _l("Country/Area"), "created_on": _l("Created"),
    "changed_on": _l("Changed"), "authorization": _l("Authorization"),
    "is_channel_own": _l("Generated for the channel"), "email": _l("Email"),
    "language": _l("Language"), "active": _l("Active"), "last_login": _l("Last login"),
    "first_name": _l("First name"), "last_name": _l("Last name"), "username": _l("Login"),
    "roles": _l("Roles"), "kind": _l("Account type"), "channel": _l("Channel"),
    "enterprise": _l("Enterprise"), "login_count": _l("Logins"),
    "fail_login_count": _l("Failed logins"), "locked_until": _l("Locked until"),
    "must_change_password": _l("Must change password"), "created_by": _l("Created by"),
    "changed_by": _l("Changed by"), "actor_username": _l("Acting person"),
    "method": _l("Method"), "status_code": _l("HTTP status"), "ip": _l("IP Address"),
    "result": _l("Result"), "operation": _l("Operation"), "path": _l("Path"),
}

BADGE_CLASSES = {Status.active: "success", Status.frozen: "default",
                 Authorization.accepted: "success", Authorization.pending: "warning",
                 Authorization.rejected: "danger", OutboxStatus.sent: "success",
                 OutboxStatus.pending: "info", OutboxStatus.failed: "danger"}


def fmt_minute(value):
    """A time to the minute, as every list shows it."""
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def badge(text, kind="default"):
    """A coloured label (Bootstrap 3): Online, Frozen, Failed..."""
    return Markup(f'<span class="label label-{kind} ymcs-badge">{escape(text)}</span>')


class LazyBadge:
    """A badge whose text is a lazy translation: built once at import, rendered once per page
    (``listing._text`` memoizes it) rather than once per row of a big list."""

    __slots__ = ("text", "kind")

    def __init__(self, text, kind):
        self.text, self.kind = text, kind

    def render(self):
        return badge(str(self.text), self.kind)


def format_mac(mac):
    """``001565d00001`` as people read it: ``00:15:65:d0:00:01`` (stored bare, lowercase)."""
    if not mac or len(mac) != 12:
        return mac or ""
    return ":".join(mac[i:i + 2] for i in range(0, 12, 2))


def country_name(code):
    """An ISO country code in the reader's language (Babel knows the territories)."""
    if not code:
        return EMPTY
    try:
        names = Locale.parse(str(get_locale() or "en")).territories
    except (ValueError, TypeError):
        names = {}
    return names.get(code.upper(), code)


def language_name(code):
    lang = current_app.config.get("LANGUAGES", {}).get(code or "")
    return lang["name"] if lang else (code or EMPTY)


def display_value(value):
    """Any column value as a person reads it."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _l("Yes") if value else _l("No")
    if isinstance(value, enum.Enum):
        label = ENUM_LABELS.get(value)
        if label is None:
            return str(value.value).replace("_", " ").capitalize()
        kind = BADGE_CLASSES.get(value)
        return badge(label, kind) if kind else label
    if isinstance(value, datetime.datetime):
        return fmt_minute(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)) or type(value).__name__ == "InstrumentedList":
        return ", ".join(str(display_value(v)) for v in value) or EMPTY
    name = getattr(value, "name", None)
    if type(value).__name__ == "Role":
        return role_label(name)
    if isinstance(name, str) and not isinstance(value, (str, int, float)):
        return name
    return value


SHARED_FORMATTERS = {"country": country_name, "language": language_name}


class ReadableShowMixin:
    """For ModelViews: labels and values of the show page as the list shows them."""

    def _list_col(self, column):
        for col in getattr(self, "list_cols", None) or ():
            if col.key == column:
                return col
        return None

    def show_label(self, column):
        label = self.label_columns.get(column)
        if label is not None and str(label) != self._prettify_column(column):
            return label  # the view named it
        col = self._list_col(column)
        if col is not None:
            return col.label
        return COMMON_LABELS.get(column, label or self._prettify_column(column))

    def show_value(self, item, column):
        raw = getattr(item, column, None)
        formatter = self.formatters_columns.get(column) or SHARED_FORMATTERS.get(column)
        if formatter is not None:
            return display_value(formatter(raw))
        col = self._list_col(column)
        if col is None:
            return display_value(raw)
        text = col.value(item)
        if isinstance(text, LazyBadge):
            return text.render()
        text = display_value(text)
        kind = BADGE_CLASSES.get(raw) if isinstance(raw, enum.Enum) else None
        return badge(text, kind) if kind and text != EMPTY else text

    def action_applies(self, name, item):
        """Whether a show page offers action ``name`` for ``item``: as its row button would."""
        for row_action in getattr(self, "row_actions", None) or ():
            if row_action.name == name and row_action.visible is not None:
                return bool(row_action.visible(item))
        return True

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = widgets or {}
        actions = {name: a for name, a in (actions or self.actions).items()
                   if self.action_applies(name, item)}
        columns = list(self.show_columns)
        widgets["show"] = self.show_widget(
            pk=pk,
            label_columns={c: self.show_label(c) for c in columns},
            include_columns=columns,
            value_columns=[self.show_value(item, c) for c in columns],
            formatters_columns={},
            actions=actions,
            fieldsets=show_fieldsets or self.show_fieldsets,
            modelview_name=self.__class__.__name__,
        )
        return widgets
