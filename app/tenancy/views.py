"""User Management: Channel Management and Enterprise Management (spec chapter 3).

Views declare; the rules live in app/tenancy/rules.py (the tree, freezing, deleting) and
app/tenancy/master_accounts.py (master accounts, their mail, unique registered emails).
"""

from email_validator import EmailNotValidError, validate_email
from flask import abort, flash, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import aliased, contains_eager
from wtforms import SelectField, ValidationError
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from app.accounts.rules import _N
from app.core import scope
from app.core.crud import added_text
from app.core.form_fields import QuerySelectField, choices
from app.core.listing import Col, ListFilter, RowAction
from app.core.public_url import external_url
from app.core.scoped_view import ScopedInterface
from app.core.show import LazyBadge
from app.core.views import FastScopedModelView, country_field, flag_field, fmt_time
from app.extensions import db
from app.models import Authorization, Channel, Enterprise, PermissionType, Status
from app.system.outbox_views import status_text as mail_status_text
from app.system.queries import account_mail_of
from app.tenancy import master_accounts as tenant_accounts
from app.tenancy import rules as tenants


def registered_email(form, field):
    """Syntax only (no DNS), as the mail outbox checks it."""
    if not field.data:
        return
    try:
        validate_email(field.data, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValidationError(gettext(tenant_accounts.EMAIL_REFUSED)) from error


def email_free(model):
    """A form validator: an address registered anywhere is refused on the field, exactly as
    a malformed one is (pre_add/pre_update check again in the saving transaction). Only the
    platform administrator, who sees every tenant, is told that it is taken."""

    def validator(form, field):
        session = db.session
        pk = scope.parse_pk(getattr(form, "_id", None))  # FAB sets it on the edit form
        tenant = session.get(model, pk) if pk else None
        email = tenant_accounts.normalized_email(field.data)
        if field.errors or not email or (tenant is not None and email == tenant.email):
            return  # refused already, or unchanged: nothing new is claimed
        owner = {"enterprise" if model is Enterprise else "channel": tenant}
        try:
            tenant_accounts.check_email_free(
                session, email, tenant_accounts.master_account(session, tenant)
                if tenant is not None else None, **owner)
        except tenant_accounts.EmailTaken:
            principal = scope.current_principal()
            if principal.is_admin:
                raise ValidationError(gettext(tenant_accounts.EMAIL_TAKEN_PRECISE,
                                              email=email)) from None
            raise ValidationError(gettext(tenant_accounts.EMAIL_REFUSED)) from None

    return validator


def login_changeable(model):
    """A form validator: once a tenant's administrator has signed in, moving its login to
    another address is refused on the field (pre_update checks again when saving)."""

    def validator(form, field):
        pk = scope.parse_pk(getattr(form, "_id", None))  # FAB sets it on the edit form
        tenant = db.session.get(model, pk) if pk else None
        if field.errors or tenant is None or not field.data:
            return
        try:
            tenant_accounts.check_login_changeable(
                tenant, tenant_accounts.master_account(db.session, tenant), field.data)
        except tenant_accounts.LoginOwned as refused:
            raise ValidationError(str(refused)) from None

    return validator


MASTER_NEEDS_EMAIL = _N("Enter the registered email: the master administrator signs in "
                        "with it.")


def email_with_master(form, field):
    """A form validator, first on the email: required when the enterprise gets a master
    administrator (Optional() after it stops the chain on an empty field otherwise)."""
    master = getattr(form, "has_master_admin", None)
    if master is not None and master.data and not (field.data or "").strip():
        raise StopValidation(gettext(MASTER_NEEDS_EMAIL))


def _login_url():
    return external_url("YmcsAuthDBView.login")


class _TenantActionsMixin:
    """Freeze/unfreeze (one or many) and reset the master account's password. Items arrive
    already scope-checked (ScopedModelView.action / action_post)."""

    def _status_action(self, items, change, done, already, to_status):
        items = items if isinstance(items, list) else [items]
        names = sorted(i.name for i in items if i.status != to_status)  # what it changes
        changed = change(items)
        self.datamodel.session.commit()
        if changed:
            flash(gettext(done, names=", ".join(names)), "success")
        else:  # freezing twice changes nothing, and says so
            flash(already, "info")
        return redirect(url_for(".list"))

    @action("freeze", _l("Freeze"), _l("Freeze the selected accounts?"), "fa-lock")
    def freeze(self, items):
        return self._status_action(items, tenants.freeze, _N("Frozen: %(names)s."),
                                   _l("Already frozen: nothing changed."), Status.frozen)

    @action("unfreeze", _l("Unfreeze"), _l("Unfreeze the selected accounts?"), "fa-unlock")
    def unfreeze(self, items):
        return self._status_action(items, tenants.unfreeze, _N("Unfrozen: %(names)s."),
                                   _l("Not frozen: nothing changed."), Status.active)

    @action("resetpassword", _l("Reset password"),
            _l("Mail a new password to this account's administrator?"), "fa-key",
            multiple=False)
    def resetpassword(self, item):
        session = self.datamodel.session
        master = tenant_accounts.master_account(session, item)
        if master is None:
            flash(gettext("%(name)s has no administrator account.", name=item.name), "warning")
            return redirect(url_for(".list"))
        try:
            tenant_accounts.reset_master_password(session, master, _login_url())
        except tenants.TenantError as error:
            session.rollback()
            flash(str(error), "danger")
            return redirect(url_for(".list"))
        session.commit()
        flash(gettext("A new password was mailed to %(email)s.", email=master.email), "success")
        return redirect(url_for(".list"))

    def _email_changed(self, item):
        history = inspect(item).attrs.email.history
        return history.has_changes()


_FROZEN, _ACTIVE = LazyBadge(_l("Frozen"), "default"), LazyBadge(_l("Active"), "success")


def _status_col():
    return Col("status", _l("Status"), lambda t: _FROZEN if t.status == Status.frozen else _ACTIVE)


_STATUS_FILTER = [("active", _l("Active")), ("frozen", _l("Frozen"))]


def _has_admin(tenant):
    """Channels always have a master account; enterprises only when set up with one."""
    return getattr(tenant, "has_master_admin", True) and not getattr(
        tenant, "is_channel_own", False)


def _freeze_actions():
    return [
        RowAction("freeze", _l("Freeze"), "fa-ban", ".action", {"name": "freeze"},
                  visible=lambda t: t.status == Status.active,
                  confirm=_l("Freeze this account?")),
        RowAction("unfreeze", _l("Unfreeze"), "fa-check-circle", ".action",
                  {"name": "unfreeze"},
                  visible=lambda t: t.status == Status.frozen,
                  confirm=_l("Unfreeze this account?")),
        RowAction("resetpassword", _l("Reset password"), "fa-key", ".action",
                  {"name": "resetpassword"}, visible=_has_admin,
                  confirm=_l("Mail a new password to this account's administrator?")),
    ]


def _parent_choices():
    """Channels a new sub-channel may hang under: those in the principal's scope."""
    return db.session.execute(
        scope.visible_channels(select(Channel).order_by(Channel.name))).scalars().all()


class ChannelModelView(_TenantActionsMixin, FastScopedModelView):
    datamodel = ScopedInterface(Channel, narrow=scope.manageable_channels)
    noun = _l("Channel")
    list_title = _l("Channel Management")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_cols = [
        Col("name", _l("Channel Name"), lambda c: c.name, Channel.name),
        Col("parent", _l("Parent Channel"), lambda c: c.parent.name if c.parent else ""),
        Col("email", _l("Registered Email"), lambda c: c.email),
        Col("contact", _l("Contact"), lambda c: c.contact),
        Col("can_add_subchannel", _l("May Add Sub-channels"),
            lambda c: _l("Yes") if c.can_add_subchannel else _l("No")),
        _status_col(),
        Col("created_on", _l("Created"), lambda c: fmt_time(c.created_on)),
    ]
    search_exprs = [Channel.name, Channel.email, Channel.contact]
    search_contains = True  # a channel's sub-channels are few: match anywhere in the text
    list_filters = [ListFilter("status", _l("Status"), _STATUS_FILTER,
                               lambda q, v: q.where(Channel.status == v))]
    row_actions = _freeze_actions() + [
        RowAction("enter", _l("Go to the channel's platform"), "fa-sign-in",
                  "ActAsView.channel", {}, visible=lambda c: c.status == Status.active,
                  permission=("can_channel", "ActAsView")),
    ]
    label_columns = {"email": _l("Registered Email"), "parent": _l("Parent Channel"),
                     "name": _l("Channel Name"), "can_add_subchannel": _l("May Add Sub-channels")}
    add_columns = ["email", "name", "parent", "contact", "phone", "address", "country",
                   "can_add_subchannel"]
    edit_columns = ["email", "name", "contact", "phone", "address", "country",
                    "can_add_subchannel"]
    show_columns = ["name", "email", "parent", "can_add_subchannel", "status", "contact",
                    "phone", "address", "country", "created_on"]
    add_form_extra_fields = {
        "country": country_field(),
        "can_add_subchannel": flag_field(_l("May Add Sub-channels")),
        # Blank means "under my own channel" (FAB's default shows a literal "__None").
        "parent": QuerySelectField(
            _l("Parent Channel"), query_func=_parent_choices, get_pk_func=lambda c: c.id,
            allow_blank=True, blank_text=_l("(my own channel)"), widget=Select2Widget()),
    }
    edit_form_extra_fields = {k: v for k, v in add_form_extra_fields.items() if k != "parent"}
    validators_columns = {
        "email": [DataRequired(), Length(max=320), registered_email,
                  login_changeable(Channel), email_free(Channel)],
        "name": [DataRequired(), Length(max=128)],
        "contact": [Length(max=128)], "phone": [Optional(), Length(max=32)],
        "address": [Optional(), Length(max=255)],
    }
    description_columns = {
        "email": _l("The channel's administrator signs in with it; the account information "
                    "is mailed to it."),
    }

    def added_message(self, item):
        return added_text(self.noun, item.name, mailed_to=item.email)

    def may_add(self):
        """A channel whose parent did not allow sub-channels gets no Add."""
        principal = scope.current_principal()
        if principal.is_admin:
            return True
        own = self.datamodel.session.get(Channel, principal.channel_id or -1)
        return own is not None and own.can_add_subchannel

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if not self.may_add():
            abort(403)
        return super().add.__wrapped__(self)

    def list_base_query(self):
        parent = aliased(Channel)
        query = select(Channel).outerjoin(parent, Channel.parent).options(
            contains_eager(Channel.parent.of_type(parent)))
        return scope.manageable_channels(query)

    def pre_add(self, item):
        # FAB shows a refusal raised here as a message and adds nothing; everything below is
        # saved in FAB's one commit: the channel, its closure rows, its own enterprise, its
        # master account and the mail telling it.
        if item.parent is None and not scope.current_principal().is_admin:
            item.parent = self.datamodel.session.get(
                Channel, scope.current_principal().channel_id)
        tenants.check_may_add_subchannel(scope.current_principal(), item.parent)
        tenants.channel_own_enterprise(item)
        tenant_accounts.create_master_account(self.datamodel.session, item.email, item,
                                              _login_url())
        item.email = tenant_accounts.normalized_email(item.email)

    def pre_update(self, item):
        if self._email_changed(item):
            session = self.datamodel.session
            tenant_accounts.change_registered_email(
                session, item, tenant_accounts.master_account(session, item), item.email)

    def pre_delete(self, item):
        session = self.datamodel.session
        tenants.check_channel_deletable(session, item)
        tenants.delete_channel_leftovers(session, item)  # committed with the channel


def _authorization_text(e):
    if e.permission_type == PermissionType.rps:
        return _l("Not needed (RPS)")
    return {Authorization.accepted: _l("Authorized"), Authorization.rejected: _l("Not authorized"),
            Authorization.pending: _l("Pending")}[e.authorization]


def _may_enter(e):
    return e.status == Status.active and (e.permission_type == PermissionType.rps
                                          or e.authorization == Authorization.accepted)


class EnterpriseModelView(_TenantActionsMixin, FastScopedModelView):
    datamodel = ScopedInterface(Enterprise)
    noun = _l("Enterprise")
    list_title = _l("Enterprise Management")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_cols = [
        Col("name", _l("Enterprise Name"), lambda e: e.name, Enterprise.name),
        Col("own", _l("Type"), lambda e: _l("Generated for the channel")
            if e.is_channel_own else ""),
        Col("permission_type", _l("Permission"),
            lambda e: _l("RPS") if e.permission_type == PermissionType.rps
            else _l("Device Management")),
        Col("channel", _l("Channel"), lambda e: e.channel.name),
        Col("email", _l("Registered Email"), lambda e: e.email),
        Col("contact", _l("Contact"), lambda e: e.contact),
        Col("authorization", _l("Authorization"), _authorization_text),
        _status_col(),
        # Troubleshooting (chapter 11): did the account information reach the enterprise?
        Col("account_mail", _l("Account Mail"),
            lambda e: mail_status_text(*account_mail_of(db.session, e.id))),
    ]
    search_exprs = [Enterprise.name, Enterprise.email, Enterprise.contact]
    search_contains = True
    list_filters = [ListFilter("status", _l("Status"), _STATUS_FILTER,
                               lambda q, v: q.where(Enterprise.status == v))]
    # The home page's "awaiting authorization" links here (RPS enterprises need none).
    list_filters = [*list_filters, ListFilter(
        "authorization", _l("Authorization"),
        [("pending", _l("Pending")), ("accepted", _l("Authorized")),
         ("rejected", _l("Not authorized"))],
        lambda q, v: q.where(Enterprise.authorization == v,
                             Enterprise.permission_type == PermissionType.device_management))]
    row_actions = _freeze_actions() + [
        RowAction("enter", _l("Go to the enterprise's platform"), "fa-sign-in",
                  "ActAsView.enterprise", {}, visible=_may_enter,
                  permission=("can_enterprise", "ActAsView")),
    ]
    label_columns = {"email": _l("Registered Email"), "name": _l("Enterprise Name"),
                     "permission_type": _l("Permission"), "channel": _l("Channel"),
                     "has_master_admin": _l("Set Master Administrator")}
    add_columns = ["name", "channel", "permission_type", "has_master_admin", "email",
                   "country", "contact", "phone", "address"]
    edit_columns = ["name", "has_master_admin", "email", "country", "contact", "phone",
                    "address"]
    show_columns = ["name", "channel", "permission_type", "has_master_admin", "email",
                    "country", "contact", "phone", "address", "status", "authorization",
                    "is_channel_own", "created_on"]
    add_form_extra_fields = {
        "country": country_field(required=True),  # the spec marks it required
        "has_master_admin": flag_field(_l("Set Master Administrator")),
        # FAB's enum field answers an unknown value with a 500; this one with a form error.
        "permission_type": SelectField(
            _l("Permission"), coerce=PermissionType, validators=[DataRequired()],
            widget=Select2Widget(),
            # values as submitted (the enum's str() would be "PermissionType.rps")
            choices=choices([(PermissionType.device_management.value, _l("Device Management")),
                             (PermissionType.rps.value, _l("RPS"))])),
    }
    edit_form_extra_fields = {k: v for k, v in add_form_extra_fields.items()
                              if k != "permission_type"}
    validators_columns = {
        "name": [DataRequired(), Length(max=128)],
        "email": [email_with_master, Optional(), Length(max=320), registered_email,
                  login_changeable(Enterprise), email_free(Enterprise)],
        "contact": [DataRequired(), Length(max=128)], "phone": [Optional(), Length(max=32)],
        "address": [Optional(), Length(max=255)],
    }
    description_columns = {
        "email": _l("Required with a master administrator: it becomes the enterprise "
                    "administrator's login, and the account information is mailed to it."),
    }

    def added_message(self, item):
        return added_text(self.noun, item.name,
                          mailed_to=item.email if item.has_master_admin else None)

    def _check_master(self, item):
        if item.has_master_admin and not item.email:
            error = tenants.TenantError(MASTER_NEEDS_EMAIL)
            error.field = "email"
            raise error

    def pre_add(self, item):
        self._check_master(item)
        session = self.datamodel.session
        if item.has_master_admin:
            tenant_accounts.create_master_account(session, item.email, item, _login_url())
        elif item.email:
            tenant_accounts.check_email_free(session, item.email, enterprise=item)
        item.email = tenant_accounts.normalized_email(item.email) or None

    def pre_update(self, item):
        self._check_master(item)
        session = self.datamodel.session
        changed = self._email_changed(item)  # before any query autoflushes the history away
        master = tenant_accounts.master_account(session, item)
        if changed and item.email:
            tenant_accounts.change_registered_email(session, item, master, item.email)
        if item.has_master_admin and master is None:
            tenant_accounts.create_master_account(session, item.email, item, _login_url())

    def pre_delete(self, item):
        session = self.datamodel.session
        tenants.check_enterprise_deletable(session, item)
        tenants.delete_enterprise_accounts(session, item)  # committed with the enterprise

    def list_base_query(self):
        query = select(Enterprise).outerjoin(Enterprise.channel).options(
            contains_eager(Enterprise.channel))
        return scope.visible_enterprises(query)
