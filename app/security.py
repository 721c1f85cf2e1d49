"""The SecurityManager subclass: our account model, fast permission checks, role sync."""

from flask import g, session
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import PermissionView, Role, assoc_permissionview_role
from flask_appbuilder.security.views import UserDBModelView
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField

from . import roles
from .models import Account


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
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "must_change_password": BooleanField("Must Change Password", default=False),
    }
    edit_form_extra_fields = {
        "must_change_password": BooleanField("Must Change Password", default=False),
    }


class YmcsSecurityManager(SecurityManager):
    user_model = Account
    userdbmodelview = AccountModelView

    # -- loading the user: one statement with roles and groups --------------------------------
    def get_user_by_id(self, pk):
        return self.session.execute(
            select(Account)
            .where(Account.id == pk)
            .options(joinedload(Account.roles), joinedload(Account.groups))
        ).unique().scalar_one_or_none()

    # -- permission checks: the user's whole permission set, once per request -----------------
    def _permission_set(self, user):
        cache = getattr(g, "_ymcs_permissions", None)
        if cache is not None and cache[0] == user.id:
            return cache[1]
        role_ids = [role.id for role in self.get_user_roles(user)]
        rows = self.session.execute(
            select(PermissionView)
            .join(assoc_permissionview_role)
            .where(assoc_permissionview_role.c.role_id.in_(role_ids))
        ).scalars()
        permissions = {(pv.permission.name, pv.view_menu.name) for pv in rows}
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

    def find_role(self, name):
        return self.session.execute(select(Role).where(Role.name == name)).scalar_one_or_none()


def make_session_permanent():
    """FAB leaves sessions non-permanent, so PERMANENT_SESSION_LIFETIME would be ignored.
    Permanent sessions refreshed on every request give the idle timeout."""
    session.permanent = True


def refuse_placeholder_secret(app):
    from config import PLACEHOLDER_SECRET

    if app.config.get("YMCS_ENV") == "production" and app.config["SECRET_KEY"] in (
        PLACEHOLDER_SECRET, "", None,
    ):
        raise RuntimeError("Set SECRET_KEY: the placeholder secret is refused in production.")

