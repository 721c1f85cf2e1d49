"""System Management > Sub account management (spec chapter 9). The rules are
app/system/rules.py; this view parses forms and reports refusals."""

import logging

from email_validator import EmailNotValidError, validate_email
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, SelectMultipleField, StringField, ValidationError, widgets
from wtforms.validators import DataRequired, Length, Optional

from app.accounts import roles
from app.accounts.rules import _N
from app.core import scope
from app.core.crud import names_text
from app.core.listing import Col, RowAction
from app.core.public_url import external_url
from app.core.scoped_view import ScopedInterface
from app.core.show import LazyBadge
from app.core.views import FastScopedModelView, fmt_time
from app.extensions import db
from app.models import Account, Channel
from app.system import rules

log = logging.getLogger(__name__)


class _Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _email_syntax(form, field):
    """Syntax only (no DNS), as the mail outbox checks it."""
    try:
        validate_email(field.data or "", check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValidationError(gettext("Not a valid email address.")) from error


class SubAccountForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=320),
                                                 _email_syntax])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=64)])
    last_name = StringField(_l("Last name"), validators=[Optional(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    language = SelectField(_l("Language"), validators=[DataRequired()])
    # Choices are checked by app/system/rules.py, which says what was refused and why.
    features = _Checkboxes(_l("Features"), validate_choice=False)
    targets = SelectMultipleField(_l("Data permission"), validate_choice=False,
                               widget=Select2ManyWidget())


class SubAccountEditForm(SubAccountForm):
    email = None  # the login is not changed here


def _language_choices():
    return [(code, lang["name"]) for code, lang in current_app.config["LANGUAGES"].items()]


def _role_label(role):
    return {roles.CHANNEL_FINANCE: _l("Finance: orders and statements"),
            roles.CHANNEL_DEVICE_OPERATOR: _l("Device operator: devices"),
            roles.CHANNEL_ADMIN: _l("Full: every feature of the channel")
            }.get(role.name, role.name)


def _features_of(account):
    short = {roles.CHANNEL_FINANCE: _l("Finance"),
             roles.CHANNEL_DEVICE_OPERATOR: _l("Device operator"),
             roles.CHANNEL_ADMIN: _l("Full")}
    return ", ".join(str(short.get(r.name, r.name)) for r in account.roles)


def _data_of(account):
    names = rules.describe_grants(db.session, account.id)
    return ", ".join(names[:5]) + (f" (+{len(names) - 5})" if len(names) > 5 else "")


_ACTIVE, _INACTIVE = LazyBadge(_l("Active"), "success"), LazyBadge(_l("Inactive"), "default")


def _status_badge(active):
    return (_ACTIVE if active else _INACTIVE).render()


def _login_url():
    return external_url("YmcsAuthDBView.login")


class SubAccountModelView(FastScopedModelView):
    datamodel = ScopedInterface(Account, narrow=scope.manageable_sub_accounts)
    noun = _l("Sub account")  # its own add/edit/delete say more (see below)
    list_title = _l("Sub account management")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    list_cols = [
        Col("name", _l("Name"), lambda a: f"{a.first_name} {a.last_name}".strip()),
        Col("email", _l("Email"), lambda a: a.email),
        Col("features", _l("Features"), _features_of),
        Col("data", _l("Data permission"), _data_of),
        Col("status", _l("Status"), lambda a: _ACTIVE if a.active else _INACTIVE),
        Col("last_login", _l("Last login"), lambda a: fmt_time(a.last_login)),
    ]
    search_exprs = [Account.email, Account.first_name, Account.last_name]
    search_contains = True
    row_actions = [
        RowAction("resetpassword", _l("Reset password"), "fa-key", ".action",
                  {"name": "resetpassword"},
                  confirm=_l("Mail a new password to this sub account?")),
    ]
    show_columns = ["first_name", "last_name", "email", "phone", "language", "active",
                    "last_login", "roles"]
    label_columns = {"roles": _l("Features"), "first_name": _l("First name"),
                     "last_name": _l("Last name"), "email": _l("Email"),
                     "phone": _l("Phone"), "language": _l("Language"),
                     "active": _l("Status"), "last_login": _l("Last login")}
    formatters_columns = {"active": _status_badge}

    def _refuse_unless_manager(self):
        if not rules.may_manage_sub_accounts(scope.current_principal()):
            abort(403)

    def may_add(self):
        return rules.may_manage_sub_accounts(scope.current_principal())

    def list_base_query(self):
        return scope.manageable_sub_accounts(
            select(Account).options(selectinload(Account.roles)))

    @expose("/list/")
    @has_access
    def list(self):
        self._refuse_unless_manager()
        return self.render_fast_list()

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        self._refuse_unless_manager()
        return super().show.__wrapped__(self, pk)

    # -- add and edit -----------------------------------------------------------------------
    def _choices(self, form, account=None, channel_id=None):
        principal = scope.current_principal()
        session = db.session
        owner = channel_id or rules.owner_channel_id(principal, account)
        form.language.choices = _language_choices()
        form.features.choices = [(str(r.id), _role_label(r))
                                 for r in rules.assignable_roles(session, principal, owner)]
        # The subtree as an indented list; select2 searches it as you type.
        labels = {"c": _N("Channel: %(name)s"), "e": _N("Enterprise: %(name)s")}
        data = [(f"{kind}:{row.id}", "\u2003" * depth + gettext(labels[kind], name=row.name))
                for kind, row, depth in rules.grant_tree(session, owner)]
        form.targets.choices = data

    def _render_form(self, form, title, account=None, status=200, channel=None):
        return render_template(
            "system/sub_account_form.html", appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template, form=form, title=title,
            account=account, channel=channel, list_url=url_for(".list")), status

    def _refused(self, error, form, title, account=None, channel=None):
        db.session.rollback()
        log.warning("sub account refused: %s", error)
        flash(gettext(error.template, **error.params), "danger")
        return self._render_form(form, title, account, status=400, channel=channel)

    def _channel_for_add(self):
        """The channel of the account being added: a master's own; the admin's choice (the
        ``channel`` argument), or None and the admin is asked for it."""
        principal = scope.current_principal()
        if not principal.is_admin:
            return db.session.get(Channel, principal.channel_id)
        pk = scope.parse_pk(request.values.get("channel"))
        return db.session.get(Channel, pk) if pk else None

    def _choose_channel(self, title, status=200):
        channels = db.session.execute(select(Channel.id, Channel.name)
                                      .order_by(Channel.name)).all()
        return render_template(
            "system/sub_account_channel.html", appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template, title=title, channels=channels,
            list_url=url_for(".list")), status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if not self.may_add():
            abort(403)
        title = _l("Add sub account")
        channel = self._channel_for_add()
        if channel is None:  # the admin has not chosen a channel (or forged one)
            if request.method == "POST" or request.args.get("channel"):
                log.warning("sub account refused: no such channel")
                flash(gettext(rules.NO_CHANNEL), "danger")
                return self._choose_channel(title, status=400)
            return self._choose_channel(title)
        form = SubAccountForm()
        self._choices(form, channel_id=channel.id)
        if request.method == "GET":
            form.language.data = "en"
            return self._render_form(form, title, channel=channel)
        if not form.validate():
            return self._render_form(form, title, status=400, channel=channel)
        try:
            account = rules.create_sub_account(
                db.session, scope.current_principal(), email=form.email.data,
                first_name=form.first_name.data, last_name=form.last_name.data,
                phone=form.phone.data, language=form.language.data,
                role_ids=form.features.data or [], targets=form.targets.data or [],
                login_url=_login_url(), channel_id=channel.id)
            db.session.commit()
        except rules.SubAccountError as error:
            return self._refused(error, form, title, channel=channel)
        flash(gettext("The sub account %(email)s was added; its account information was "
                      "mailed to it.", email=account.email), "success")
        return redirect(url_for(".list"))

    def _manageable_or_404(self, pk):
        self._refuse_unless_manager()
        try:
            account = scope.get_or_raise(db.session, Account, pk,
                                         narrower=scope.manageable_sub_accounts)
            rules.check_manageable(scope.current_principal(), account)
        except scope.OutOfScope:
            abort(404)
        return account

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        account = self._manageable_or_404(pk)
        form = SubAccountEditForm(obj=account if request.method == "GET" else None)
        self._choices(form, account)
        title = _l("Edit sub account %(email)s", email=account.email)
        if request.method == "GET":
            form.features.data = [str(r.id) for r in account.roles]
            channels, enterprises = rules.grants_of(db.session, account.id)
            form.targets.data = [f"c:{c}" for c in channels] + [f"e:{e}" for e in enterprises]
            return self._render_form(form, title, account)
        if not form.validate():
            return self._render_form(form, title, account, status=400)
        try:
            rules.update_sub_account(
                db.session, scope.current_principal(), account,
                first_name=form.first_name.data, last_name=form.last_name.data,
                phone=form.phone.data, language=form.language.data,
                role_ids=form.features.data or [], targets=form.targets.data or [])
            db.session.commit()
        except rules.SubAccountError as error:
            return self._refused(error, form, title, account)
        flash(gettext("The sub account %(email)s was saved.", email=account.email), "success")
        return redirect(url_for(".list"))

    # -- delete, reset password ---------------------------------------------------------------
    def _delete(self, accounts):
        names = names_text(a.email for a in accounts)
        try:
            rules.delete_sub_accounts(db.session, scope.current_principal(), accounts)
        except scope.OutOfScope:
            db.session.rollback()
            abort(404)
        db.session.commit()
        flash(gettext("Deleted sub accounts: %(names)s.", names=names), "success")
        return redirect(url_for(".list"))

    @expose("/delete/<pk>", methods=["POST"])
    @has_access
    def delete(self, pk):
        return self._delete([self._manageable_or_404(pk)])

    @action("delete", _l("Delete"), _l("Delete the selected sub accounts?"), "fa-trash")
    def delete_selected(self, items):
        items = items if isinstance(items, list) else [items]
        return self._delete([self._manageable_or_404(i.id) for i in items])

    @action("resetpassword", _l("Reset password"),
            _l("Mail a new password to this sub account?"), "fa-key", multiple=False)
    def resetpassword(self, item):
        account = self._manageable_or_404(item.id)
        try:
            rules.reset_sub_account_password(db.session, scope.current_principal(), account,
                                             _login_url())
        except rules.SubAccountError as error:
            db.session.rollback()
            flash(gettext(error.template, **error.params), "danger")
            return redirect(url_for(".list"))
        db.session.commit()
        flash(gettext("A new password was mailed to %(email)s.", email=account.email),
              "success")
        return redirect(url_for(".list"))
