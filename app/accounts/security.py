"""The SecurityManager subclass: our account model, fast permission checks, role sync."""

import functools

from flask import g, request, session
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security.decorators import has_access
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
from flask_appbuilder.security.views import UserDBModelView, UserGroupModelView
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select, true, union
from sqlalchemy.orm import joinedload, load_only, selectinload
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired

from app.accounts import roles
from app.accounts import rules as accounts
from app.accounts.role_views import YmcsRoleModelView
from app.accounts.roles import role_label
from app.accounts.sessions import end_sessions
from app.accounts.views import YmcsAuthDBView
from app.core import scope
from app.core.crud import SavedMessagesMixin
from app.core.form_fields import QuerySelectMultipleField, choices, use_our_fields
from app.core.listing import Col, FastListMixin
from app.core.scoped_view import Interface
from app.core.show import ENUM_LABELS, LazyBadge, ReadableShowMixin, fmt_minute
from app.extensions import db
from app.models import Account, AccountKind, Channel, Enterprise

_ACTIVE, _INACTIVE = LazyBadge(_l("Active"), "success"), LazyBadge(_l("Inactive"), "default")


def _roles_field(label, description=""):
    """Roles to choose, named as people say them ("Channel administrator")."""
    return QuerySelectMultipleField(
        label, description=description, get_pk_func=lambda r: r.id,
        get_label=lambda r: role_label(r.name),
        query_func=lambda: db.session.execute(select(Role).order_by(Role.id)).scalars().all(),
        widget=Select2ManyWidget())


def _role_names(account_roles):
    return ", ".join(str(role_label(r.name)) for r in account_roles)


def _tenant_of(account):
    tenant = account.channel or account.enterprise
    return tenant.name if tenant is not None else ""


class AccountModelView(SavedMessagesMixin, FastListMixin, ReadableShowMixin, UserDBModelView):
    """FAB's user screens, with the tenant an account belongs to, listed as the channel
    screens are (FAB's list had its "Search" bar and raw values)."""

    list_cols = [
        Col("username", _l("Login"), lambda a: a.username),
        Col("name", _l("Name"), lambda a: f"{a.first_name} {a.last_name}".strip()),
        Col("kind", _l("Account type"), lambda a: ENUM_LABELS.get(a.kind, a.kind)),
        Col("tenant", _l("Channel / Enterprise"), _tenant_of),
        Col("roles", _l("Roles"), lambda a: _role_names(a.roles)),
        Col("active", _l("Status"), lambda a: _ACTIVE if a.active else _INACTIVE),
        Col("last_login", _l("Last login"), lambda a: fmt_minute(a.last_login)),
    ]
    search_exprs = [Account.username, Account.email, Account.first_name, Account.last_name]
    search_contains = True
    default_sort = ("id", False)

    @expose("/list/")
    @has_access
    def list(self):
        return self.render_fast_list()

    def list_base_query(self):
        return scope.narrow(Account, select(Account).options(
            selectinload(Account.roles), joinedload(Account.channel),
            joinedload(Account.enterprise)))

    def list_count_query(self):
        return scope.narrow(Account, select(Account.id))

    noun = _l("Account")

    def item_name(self, item):
        return item.username

    _tenant = ["kind", "channel", "enterprise", "phone", "language", "must_change_password"]
    add_columns = UserDBModelView.add_columns + _tenant
    edit_columns = UserDBModelView.edit_columns + _tenant
    show_fieldsets = UserDBModelView.show_fieldsets + [
        (_l("Tenant"), {"fields": _tenant + ["locked_until"], "expanded": True}),
    ]
    list_columns = ["first_name", "last_name", "username", "email", "kind", "active", "roles"]
    # FAB's related list (a role's accounts, on the role's page) reads like ours.
    formatters_columns = {
        "kind": lambda kind: ENUM_LABELS.get(kind, kind),
        "active": lambda active: (_ACTIVE if active else _INACTIVE).render(),
        "roles": _role_names,
    }
    # FAB's help texts speak of LDAP and OpenID sign-ins, which this portal has none of.
    description_columns = {
        **UserDBModelView.description_columns,
        "username": _l("What the person types to sign in."),
        "email": _l("Where the portal mails this account: temporary passwords, reset links, "
                    "alarms."),
        "active": _l("An inactive account cannot sign in. Rather than delete an account, make "
                     "it inactive."),
        "groups": _l("The account also holds every role of its groups."),
    }
    # FAB makes a NOT NULL boolean a required checkbox; "no" must be submittable.
    # FAB's enum field answers an unknown value with a 500; this one with a form error.
    # Option values as submitted: the enum's str() ("AccountKind.channel_master") came back
    # as an unknown kind, and no account could be saved from the form.
    _kind = SelectField("Kind", coerce=AccountKind, validators=[DataRequired()],
                        choices=choices((k.value, ENUM_LABELS[k]) for k in AccountKind))
    _roles = _roles_field(_l("Roles"), UserDBModelView.description_columns["roles"])
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "must_change_password": BooleanField("Must Change Password", default=False),
        "kind": _kind, "roles": _roles,
    }
    edit_form_extra_fields = {
        "must_change_password": BooleanField("Must Change Password", default=False),
        "kind": _kind, "roles": _roles,
    }

    # A deactivated or deleted account's sessions end with the change, everywhere.
    def pre_update(self, item):
        super().pre_update(item)
        if not item.active:
            end_sessions(self.datamodel.session, [item.id])

    def pre_delete(self, item):
        super().pre_delete(item)
        end_sessions(self.datamodel.session, [item.id])


class GroupView(SavedMessagesMixin, UserGroupModelView):
    """FAB's group screens; saves say which group, roles are named as people say them."""

    noun = _l("Group")
    add_form_extra_fields = edit_form_extra_fields = {"roles": _roles_field(_l("Roles"))}
    formatters_columns = {"roles": _role_names}


def _role_ids_of_user(user_id):
    """The user's role ids, direct or through groups."""
    ur, ug, gr = assoc_user_role.c, assoc_user_group.c, assoc_group_role.c
    direct = select(ur.role_id).where(ur.user_id == user_id)
    grouped = (select(gr.role_id).join(assoc_user_group, ug.group_id == gr.group_id)
               .where(ug.user_id == user_id))
    return union(direct, grouped).scalar_subquery()


@functools.cache
def _user_query():
    """The user with its tenant (many-to-one joins: cheap), which answers "is this account
    frozen?" on every request, and the fingerprint of its permission rows (below). Roles are
    not loaded: eager-loading the role and group collections made this load, paid on every
    request, three to four times as costly (about 2.6 ms against 0.7 ms, measured here).
    The statement is built once: SQLAlchemy then skips its construction and cache-key walk."""
    pvr = assoc_permissionview_role.c
    fingerprint = (
        select(func.count().label("n"), func.sum(pvr.id).label("ids"),
               func.sum(pvr.permission_view_id).label("pvs"))
        .where(pvr.role_id.in_(_role_ids_of_user(bindparam("pk"))))
        .subquery())
    return (
        select(Account, fingerprint.c.n, fingerprint.c.ids, fingerprint.c.pvs)
        .join_from(Account, fingerprint, true())
        .where(Account.id == bindparam("pk"))
        .options(load_only(*_ACCOUNT_COLUMNS),
                 joinedload(Account.channel).load_only(*_CHANNEL_COLUMNS),
                 joinedload(Account.enterprise).load_only(*_ENTERPRISE_COLUMNS))
    )


# What a request reads of the signed-in account and its tenant (its name, state, kind,
# language, authorization). The rest (the password hash, contact details, audit columns) is
# read only where a page shows it, by a load of its own: the driver parses every column's
# description on every request, and these are half of the 48.
_ACCOUNT_COLUMNS = (Account.id, Account.first_name, Account.last_name, Account.username,
                    Account.active, Account.email, Account.last_login, Account.kind,
                    Account.channel_id, Account.enterprise_id, Account.language,
                    Account.must_change_password, Account.locked_until)
_CHANNEL_COLUMNS = (Channel.id, Channel.name, Channel.parent_id, Channel.can_add_subchannel,
                    Channel.status)
_ENTERPRISE_COLUMNS = (Enterprise.id, Enterprise.name, Enterprise.channel_id,
                       Enterprise.permission_type, Enterprise.has_master_admin,
                       Enterprise.status, Enterprise.authorization,
                       Enterprise.authorization_answered_on, Enterprise.is_channel_own)


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
    return _names_of(_role_ids_of_user(bindparam("user_id")))


# Permission sets read in this process, by (user id, fingerprint of the user's permission
# rows). The fingerprint (how many rows, the sum of their ids and of their permission ids)
# comes with the user's own query on every request: granting or revoking anything adds or
# deletes a row of ab_permission_view_role and so changes it, and the next request reads the
# set again — as before, a role edited in the role screens applies at once — while an
# unchanged set costs neither the 100-row query nor building it.
_PERMISSION_SETS = {}
_PERMISSION_SETS_MAX = 5000


@functools.cache
def _role_permission_query():
    """(permission, view) pairs of one role, by name (a visit to another tenant)."""
    return _names_of(select(Role.id).where(Role.name == bindparam("role_name"))
                     .scalar_subquery())


class YmcsSecurityManager(SecurityManager):
    user_model = Account
    userdbmodelview = AccountModelView
    rolemodelview = YmcsRoleModelView
    groupmodelview = GroupView
    authdbview = YmcsAuthDBView
    # FAB's "User's Statistics" chart (login counts as a Google chart): each account's page
    # shows its logins already. Not registered, so it answers 404.
    userstatschartview = None

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
        row = self.session.execute(_user_query(), {"pk": pk}).unique().first()
        if row is None:
            return None
        account = row[0]
        account.ymcs_permission_key = (account.id, row.n, row.ids, row.pvs)
        return account

    # -- permission checks: the user's whole permission set, once per request -----------------
    def _permission_set(self, user):
        """{(permission name, view name)} of the user's roles: one query of plain name pairs
        (no ORM objects) when this process has not read the set of this fingerprint yet
        (_PERMISSION_SETS): a permission revoked in the role screens applies at the next
        request."""
        cache = getattr(g, "_ymcs_permissions", None)
        if cache is not None and cache[0] == user.id:
            return cache[1]
        acting = g.get("ymcs_acting")
        if acting is not None:  # inside another tenant's portal: that tenant's role
            permissions = frozenset(self.session.execute(
                _role_permission_query(), {"role_name": acting.role_name}).tuples())
        else:
            key = getattr(user, "ymcs_permission_key", None)
            permissions = _PERMISSION_SETS.get(key) if key is not None else None
            if permissions is None:
                permissions = frozenset(self.session.execute(
                    _user_permission_query(), {"user_id": user.id}).tuples())
                if key is not None:
                    if len(_PERMISSION_SETS) >= _PERMISSION_SETS_MAX:
                        _PERMISSION_SETS.clear()
                    _PERMISSION_SETS[key] = permissions
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
        self._drop_unregistered_permissions()
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


    def _drop_unregistered_permissions(self):
        """The permissions of screens no longer registered (FAB's raw permission screens and
        user statistics chart, since they are off): out of every role, then gone, so the
        role form offers only what exists."""
        known = {view.class_permission_name for view in self.appbuilder.baseviews}
        stale = [vm for vm in self.session.execute(select(ViewMenu)).scalars()
                 if vm.name not in known and not self.appbuilder.menu.find(vm.name)]
        if not stale:
            return
        ids = select(PermissionView.id).where(
            PermissionView.view_menu_id.in_([vm.id for vm in stale])).scalar_subquery()
        self.session.execute(delete(assoc_permissionview_role).where(
            assoc_permissionview_role.c.permission_view_id.in_(ids)))
        self.session.execute(delete(PermissionView).where(
            PermissionView.view_menu_id.in_([vm.id for vm in stale])))
        for vm in stale:
            self.session.delete(vm)
        self.session.flush()
        self.session.expire_all()


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

