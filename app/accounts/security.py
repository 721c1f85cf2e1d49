"""The SecurityManager subclass: our account model, fast permission checks, role sync."""

import functools

from flask import g, request, session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_group_role,
    assoc_permissionview_role,
    assoc_user_group,
    assoc_user_role,
)
from flask_appbuilder.security.views import UserDBModelView
from sqlalchemy import bindparam, select, union
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired

from app.accounts import roles
from app.accounts import rules as accounts
from app.accounts.sessions import end_sessions
from app.accounts.views import YmcsAuthDBView
from app.core.form_fields import choices, use_our_fields
from app.core.scoped_view import Interface
from app.models import Account, AccountKind


class AccountModelView(UserDBModelView):
    """FAB's user screens, with the tenant an account belongs to."""

    _tenant = ["kind", "channel", "enterprise", "phone", "language", "must_change_password"]
    add_columns = UserDBModelView.add_columns + _tenant
    edit_columns = UserDBModelView.edit_columns + _tenant
    show_fieldsets = UserDBModelView.show_fieldsets + [
        ("Tenant", {"fields": _tenant + ["locked_until"], "expanded": True}),
    ]
    list_columns = ["first_name", "last_name", "username", "email", "kind", "active", "roles"]
    # FAB makes a NOT NULL boolean a required checkbox; "no" must be submittable.
    # FAB's enum field answers an unknown value with a 500; this one with a form error.
    # Option values as submitted: the enum's str() ("AccountKind.channel_master") came back
    # as an unknown kind, and no account could be saved from the form.
    _kind = SelectField("Kind", coerce=AccountKind, validators=[DataRequired()],
                        choices=choices((k.value, k.value) for k in AccountKind))
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "must_change_password": BooleanField("Must Change Password", default=False),
        "kind": _kind,
    }
    edit_form_extra_fields = {
        "must_change_password": BooleanField("Must Change Password", default=False),
        "kind": _kind,
    }

    # A deactivated or deleted account's sessions end with the change, everywhere.
    def pre_update(self, item):
        super().pre_update(item)
        if not item.active:
            end_sessions(self.datamodel.session, [item.id])

    def pre_delete(self, item):
        super().pre_delete(item)
        end_sessions(self.datamodel.session, [item.id])


@functools.cache
def _user_query():
    """The user with its tenant (many-to-one joins: cheap), which answers "is this account
    frozen?" on every request. Roles are not loaded: the permission query reaches them by
    user id; eager-loading the role and group collections made this load, paid on every
    request, three to four times as costly (about 2.6 ms against 0.7 ms, measured here).
    The statement is built once: SQLAlchemy then skips its construction and cache-key walk."""
    return (
        select(Account)
        .where(Account.id == bindparam("pk"))
        .options(joinedload(Account.channel), joinedload(Account.enterprise))
    )


def _names_of(role_ids):
    pvr = assoc_permissionview_role.c
    return (
        select(Permission.name, ViewMenu.name)
        .select_from(assoc_permissionview_role)
        .join(PermissionView, PermissionView.id == pvr.permission_view_id)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
        .where(pvr.role_id.in_(role_ids))
    )


@functools.cache
def _user_permission_query():
    """(permission, view) pairs of the user's roles, direct or through groups."""
    ur, ug, gr = assoc_user_role.c, assoc_user_group.c, assoc_group_role.c
    direct = select(ur.role_id).where(ur.user_id == bindparam("user_id"))
    grouped = (select(gr.role_id).join(assoc_user_group, ug.group_id == gr.group_id)
               .where(ug.user_id == bindparam("user_id")))
    return _names_of(union(direct, grouped).scalar_subquery())


@functools.cache
def _role_permission_query():
    """(permission, view) pairs of one role, by name (a visit to another tenant)."""
    return _names_of(select(Role.id).where(Role.name == bindparam("role_name"))
                     .scalar_subquery())


class YmcsSecurityManager(SecurityManager):
    user_model = Account
    userdbmodelview = AccountModelView
    authdbview = YmcsAuthDBView

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # the accounts a role lists (FAB's related view) are looked up with Session.get()
        self.userdbmodelview.datamodel = Interface(self.user_model)

    def register_views(self):
        super().register_views()
        for view in self.appbuilder.baseviews:  # FAB's screens: accounts, roles, groups …
            use_our_fields(view)  # select fields in WTForms 3.3's terms (app/form_fields.py)

    def reset_password(self, userid, password):
        """FAB's "reset password" screens, in one transaction: when someone else sets it, the
        owner must choose a new one at the next sign-in and is told by mail; either way older
        reset links die and the account's other sessions end."""
        from flask_login import current_user

        from app.core.passwords import hash_password

        account = self.get_user_by_id(int(userid))
        account.password = hash_password(password)
        # No request (FAB's reset-password command): nobody is signed in.
        if getattr(current_user, "is_authenticated", False) and current_user.id == account.id:
            accounts.credentials_changed(self.session, account, "Your password was changed.",
                                         keep_session_id=getattr(session, "sid", None))
        else:
            accounts.force_password_change(account)
            accounts.credentials_changed(
                self.session, account, "Your password was reset by the platform "
                "administrator; you will choose a new one when you sign in.")
        self.session.commit()

    # -- loading the user: one statement with roles and groups --------------------------------
    def get_user_by_id(self, pk):
        return self.session.execute(
            _user_query(), {"pk": pk}).unique().scalar_one_or_none()

    # -- permission checks: the user's whole permission set, once per request -----------------
    def _permission_set(self, user):
        """{(permission name, view name)} of the user's roles: one query of plain name pairs
        (no ORM objects), the first time a request asks. Not kept between requests: a
        permission revoked in the role screens applies at the next request."""
        cache = getattr(g, "_ymcs_permissions", None)
        if cache is not None and cache[0] == user.id:
            return cache[1]
        acting = g.get("ymcs_acting")
        if acting is not None:  # inside another tenant's portal: that tenant's role
            rows = self.session.execute(_role_permission_query(),
                                        {"role_name": acting.role_name})
        else:
            rows = self.session.execute(_user_permission_query(), {"user_id": user.id})
        permissions = frozenset(rows.tuples())
        g._ymcs_permissions = (user.id, permissions)
        return permissions

    def _has_view_access(self, user, permission_name, view_name):
        return (permission_name, view_name) in self._permission_set(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:
            return super()._get_user_permission_view_menus(
                user, permission_name, view_menus_name
            )
        permissions = self._permission_set(user)
        return {
            name for (perm, name) in permissions
            if perm == permission_name and (view_menus_name is None or name in view_menus_name)
        }

    # -- roles defined in code, synced by command ---------------------------------------------
    def sync_roles(self):
        """Create every permission-view the app declares, then set each defined role to
        exactly its definition and give Admin everything. Idempotent."""
        admin = self.add_role(roles.ADMIN)  # FAB adds each new permission to it
        self.add_role(self.auth_role_public)
        self.appbuilder.add_permissions(update_perms=True)
        all_pvs = self.session.execute(select(PermissionView)).scalars().all()
        admin.permissions = list(all_pvs)
        for name in roles.ROLE_DEFINITIONS:
            role = self.add_role(name)
            role.permissions = [
                pv for pv in all_pvs
                if roles.role_grants(name, pv.view_menu.name, pv.permission.name)
            ]
        self.session.commit()


def make_session_permanent():
    """FAB leaves sessions non-permanent, so PERMANENT_SESSION_LIFETIME would be ignored.
    Permanent sessions refreshed on every request give the idle timeout."""
    if request.blueprint == "provisioning":  # phones fetching files keep no portal session
        return
    if not session.permanent:  # assigning marks the session modified on every request
        session.permanent = True


MIN_SECRET_LENGTH = 32


def refuse_placeholder_secret(app):
    """In every mode: with a known or guessable key anyone forges a session cookie for the
    platform admin, solves captchas offline and forges device cookies and nonces."""
    from config import PLACEHOLDER_SECRET

    key = app.config.get("SECRET_KEY") or ""
    if key != PLACEHOLDER_SECRET and len(key) >= MIN_SECRET_LENGTH:
        return
    raise RuntimeError(
        "SECRET_KEY is missing, the public placeholder or shorter than "
        f"{MIN_SECRET_LENGTH} characters, so sessions, captchas and device cookies could be "
        "forged. Either set SECRET_KEY to a random value (the same on every node), made with:"
        "\n    python3 -c 'import secrets; print(secrets.token_hex(32))'\n"
        f"or write one into {app.config.get('SECRET_KEY_FILE') or 'SECRET_KEY_FILE'} "
        "(mode 0600) by running, in the checkout:\n    .venv/bin/python -m app.core.secret_key\n"
        "(scripts/run.sh does this on its first run)."
    )

