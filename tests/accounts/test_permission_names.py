"""Permissions as people say them (app/accounts/permission_names.py), without HTTP: every
permission the app declares has a readable screen and action name in both languages."""

from types import SimpleNamespace

from flask_appbuilder.security.sqla.models import PermissionView
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.permission_names import (
    ACTION_NAMES,
    SCREEN_NAMES,
    grouped,
    menu_screens,
    readable,
)
from app.extensions import db


def _pv(permission, view, pk=0):
    return SimpleNamespace(id=pk, permission=SimpleNamespace(name=permission),
                           view_menu=SimpleNamespace(name=view))


def test_a_permission_reads_as_screen_and_action_in_both_languages(app):
    with app.test_request_context():
        assert readable("can_list", "EnterpriseModelView") == (
            "Enterprise Management", "View the list")
        assert readable("menu_access", "Enterprise Management") == (
            "Enterprise Management", "Menu entry")
        assert readable("freeze", "ChannelModelView") == ("Channel Management", "Freeze")
        assert readable("can_password", "AccountSettingsView") == (
            "Account Settings", "Change own password")
        assert readable("can_edit", "YmcsRoleModelView") == ("Roles", "Edit")
        with force_locale("zh"):
            assert readable("can_list", "EnterpriseModelView") == ("企业管理", "查看列表")
            assert readable("can_run", "DiagnosticsView") == ("设备诊断", "运行诊断工具")


def test_names_nobody_gave_fall_back_to_their_own_words(app):
    with app.test_request_context():
        assert readable("can_bell_seen", "BellModelView", screens={}) == ("Bell", "Bell seen")


def test_every_permission_of_the_app_has_a_name_of_its_own(app):
    """A new screen or action must come with its readable name (else it would show as its
    class or method name, in English, in the Chinese role screens)."""
    with app.test_request_context():
        screens = menu_screens()
        pairs = db.session.execute(select(PermissionView).options(
            selectinload(PermissionView.permission), selectinload(PermissionView.view_menu))
        ).scalars().all()
        unnamed = sorted({pv.permission.name for pv in pairs} - set(ACTION_NAMES))
        assert not unnamed, f"add these to ACTION_NAMES: {unnamed}"
        no_screen = sorted({pv.view_menu.name for pv in pairs
                            if pv.view_menu.name not in SCREEN_NAMES
                            and pv.view_menu.name not in screens})
        assert not no_screen, f"add these to SCREEN_NAMES: {no_screen}"


def test_grouped_by_screen_in_menu_order_with_the_usual_actions_first(app):
    with app.test_request_context():
        groups = grouped([
            _pv("freeze", "EnterpriseModelView"), _pv("can_delete", "EnterpriseModelView"),
            _pv("can_list", "EnterpriseModelView"), _pv("menu_access", "Enterprise Management"),
            _pv("can_send", "FeedbackView"), _pv("can_list", "ChannelModelView"),
        ])
    screens = [screen for screen, _actions in groups]
    assert screens == ["Channel Management", "Enterprise Management", "Feedback"]
    assert [label for label, _pv in groups[1][1]] == [
        "Menu entry", "View the list", "Delete", "Freeze"]
