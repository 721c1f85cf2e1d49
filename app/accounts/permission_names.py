"""Permissions as people say them: FAB stores ("can_list", "EnterpriseModelView"); the role
screens show ("Enterprise Management", "View the list"), grouped by screen.

A screen's name is its menu label (what the person clicks), unless ``SCREEN_NAMES`` names it
(screens without a menu entry of their own, and FAB's "List Users" read as "Users"). An
action's name comes from ``ACTION_NAMES``; a name in neither table falls back to its own words
("can_bell_seen" → "Bell seen"), and tests/accounts/test_permission_names.py fails on any
permission of the app that falls back, so a new one gets its readable name with it.
"""

import re

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

ACTION_NAMES = {
    "menu_access": _l("Menu entry"), "can_list": _l("View the list"),
    "can_show": _l("View details"), "can_add": _l("Add"), "can_edit": _l("Edit"),
    "can_delete": _l("Delete"), "can_get": _l("View"), "can_put": _l("Change"),
    "can_post": _l("Send"), "can_this_form_get": _l("Open the form"),
    "can_this_form_post": _l("Submit the form"), "can_command": _l("Send commands"),
    "can_download": _l("Download"), "can_export": _l("Export"),
    "can_enterprise": _l("Enter an enterprise's platform"),
    "can_channel": _l("Enter a channel's platform"), "can_userinfo": _l("Own account"),
    "can_enterprises": _l("Search enterprises"), "can_generate": _l("Make the device password"),
    "can_run": _l("Run the tools"), "can_send": _l("Send"), "can_push": _l("Push"),
    "can_retry": _l("Retry"), "can_cancel": _l("Cancel"),
    "can_settings": _l("Change own settings"), "can_password": _l("Change own password"),
    "can_channels": _l("View authorized channels"),
    "can_prompt": _l("See the authorization request"),
    "can_answer": _l("Answer the authorization request"),
    "freeze": _l("Freeze"), "unfreeze": _l("Unfreeze"), "resetpassword": _l("Reset password"),
    "resetpasswords": _l("Reset passwords"), "resetmypassword": _l("Reset my password"),
    "userinfoedit": _l("Edit my details"), "copyrole": _l("Copy role"),
    "cancel": _l("Cancel order"), "resend": _l("Resend"), "acknowledge": _l("Acknowledge"),
    "clear": _l("Clear"), "delete": _l("Delete the selected"),
}
# The usual actions in the order a screen offers them; the others after, by name.
ACTION_ORDER = ["menu_access", "can_list", "can_show", "can_add", "can_edit", "can_delete"]

SCREEN_NAMES = {
    "AccountModelView": _l("Users"), "List Users": _l("Users"),
    "YmcsRoleModelView": _l("Roles"), "List Roles": _l("Roles"),
    "GroupView": _l("Groups"), "List Groups": _l("Groups"),
    "AccountSettingsView": _l("Account Settings"), "ActAsView": _l("Go to the platform"),
    "DiagnosticsView": _l("Device diagnostics"), "FeedbackView": _l("Feedback"),
    "MenuApi": _l("Navigation menu"), "ResetMyPasswordView": _l("Reset my password"),
    "ResetPasswordView": _l("Reset an account's password"),
    "UserInfoEditView": _l("Edit my details"),
}


def _words(name):
    """"EnterpriseModelView" → "Enterprise", "can_bell_seen" → "Bell seen"."""
    name = re.sub(r"(ModelView|View|Api)$", "", name.removeprefix("can_"))
    name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").strip()
    return name[:1].upper() + name[1:].lower() if name else name


def menu_screens(menu=None):
    """{view-menu name: (menu label, position)} for every menu entry and category, in the
    menu's order; a screen's view class is named like its entry."""
    menu = menu if menu is not None else current_app.appbuilder.menu
    screens = {}

    def walk(items):
        for item in items:
            if item.name == "-":
                continue
            place = (item.label or item.name, len(screens))
            screens.setdefault(item.name, place)
            view = getattr(item, "baseview", None)
            if view is not None:
                screens.setdefault(view.class_permission_name, place)
            walk(item.childs or [])

    walk(menu.get_list())
    return screens


def _text(label):
    return gettext(label) if type(label) is str else str(label)


def action_label(permission_name):
    label = ACTION_NAMES.get(permission_name)
    return str(label) if label is not None else _words(permission_name)


def screen_label(view_menu_name, screens=None):
    screens = screens if screens is not None else menu_screens()
    if view_menu_name in SCREEN_NAMES:
        return str(SCREEN_NAMES[view_menu_name])
    if view_menu_name in screens:
        return _text(screens[view_menu_name][0])
    return _words(view_menu_name)


def readable(permission_name, view_menu_name, screens=None):
    """("can_list", "EnterpriseModelView") → ("Enterprise Management", "View the list"), in
    the current language."""
    return screen_label(view_menu_name, screens), action_label(permission_name)


def _action_key(permission_name):
    if permission_name in ACTION_ORDER:
        return (0, ACTION_ORDER.index(permission_name), "")
    return (1, 0, action_label(permission_name))


def grouped(permission_views, screens=None):
    """[(screen label, [(action label, permission view)])]: the screens in the menu's order
    (those without an entry after, by name), each screen's actions in ``ACTION_ORDER``."""
    screens = screens if screens is not None else menu_screens()
    groups, places = {}, {}
    for pv in permission_views:
        if pv.view_menu is None or pv.permission is None:
            continue
        screen = screen_label(pv.view_menu.name, screens)
        groups.setdefault(screen, []).append(pv)
        place = screens.get(pv.view_menu.name, (None, len(screens)))[1]
        places[screen] = min(place, places.get(screen, place))
    return [(screen, [(action_label(pv.permission.name), pv) for pv in
                      sorted(pvs, key=lambda pv: _action_key(pv.permission.name))])
            for screen, pvs in sorted(groups.items(), key=lambda g: (places[g[0]], g[0]))]
