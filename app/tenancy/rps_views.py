"""Device Management > RPS Device. The rules live in app/tenancy/rps.py; scope in app/core/scope.py.

An RPS enterprise (or a channel acting as it) adds, edits and removes its own RPS devices:
the enterprise is always its own, never a form choice. A channel lists its subtree's RPS
devices without any authorization; the platform administrator picks any RPS enterprise.
"""

import re

from flask import flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from wtforms import StringField
from wtforms.validators import DataRequired, StopValidation, ValidationError

from app.core import scope
from app.core.crud import names_text
from app.core.form_fields import QuerySelectField
from app.core.listing import Col
from app.core.scoped_view import ScopedInterface
from app.core.show import format_mac
from app.core.views import FastScopedModelView, fmt_time
from app.extensions import db
from app.models import AccountKind, Enterprise, PermissionType, RpsDevice
from app.tenancy import rps

# "00:15:65", "00-15-65-aa", "001565AA": a MAC (or the start of one) as people type it.
_MAC_PREFIX = re.compile(r"^[0-9a-f]{2}([:-]?[0-9a-f]{2})*[:-]?$", re.IGNORECASE)


def _message(error):
    return gettext(error.template, **error.params)


def _own_enterprise_fixed():
    """An enterprise account (or a channel acting as one) adds only to its own enterprise."""
    return scope.current_principal().kind == AccountKind.enterprise


def _cleaned(clean):
    """A form validator that stores the cleaned value, or shows the rule's message."""

    def validator(form, field):
        try:
            field.data = clean(field.data)
        except rps.RpsError as error:
            raise ValidationError(_message(error)) from None

    return validator


def _mac_free(form, field):
    try:
        rps.check_mac_free(db.session, field.data, getattr(form, "_id", None))
    except rps.RpsError as error:
        raise ValidationError(_message(error)) from None


class _EnterpriseChosen:
    """The administrator picks the enterprise; an enterprise account never sees the field."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if _own_enterprise_fixed():
            raise StopValidation()  # pre_add sets its own enterprise
        if field.data is None:
            raise ValidationError(gettext(rps.NO_ENTERPRISE))


def _rps_enterprises():
    query = select(Enterprise).where(Enterprise.permission_type == PermissionType.rps)
    return db.session.execute(
        scope.visible_enterprises(query).order_by(Enterprise.name)).scalars().all()


def _text(label, validators, description=""):
    return StringField(label, validators=validators, description=description,
                       widget=BS3TextFieldWidget())


class RpsDeviceModelView(FastScopedModelView):
    datamodel = ScopedInterface(RpsDevice)
    noun = _l("RPS device")
    list_title = show_title = _l("RPS Device")
    add_title = _l("Add RPS Device")
    edit_title = _l("Edit RPS Device")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    method_permission_name = {"muldelete": "delete"}
    list_cols = [
        Col("mac", _l("MAC"), lambda d: format_mac(d.mac), RpsDevice.mac),
        Col("server_url", _l("Server URL"), lambda d: d.server_url),
        Col("unique_url", _l("Unique URL"), lambda d: d.unique_url),
        Col("ip", _l("IP Address"), lambda d: d.ip),
        Col("enterprise", _l("Enterprise"), lambda d: d.enterprise.name),
    ]
    search_exprs = [RpsDevice.mac, RpsDevice.server_url, RpsDevice.ip]
    label_columns = {"mac": _l("MAC"), "server_url": _l("Server URL"),
                     "unique_url": _l("Unique URL"), "ip": _l("IP Address"),
                     "enterprise": _l("Enterprise"), "created_on": _l("Created")}
    add_columns = ["enterprise", "mac", "server_url", "unique_url", "ip"]
    edit_columns = ["mac", "server_url", "unique_url", "ip"]
    show_columns = ["mac", "server_url", "unique_url", "ip", "enterprise", "created_on"]
    formatters_columns = {"created_on": fmt_time, "mac": format_mac}
    edit_form_extra_fields = {
        "mac": _text(_l("MAC"), [DataRequired(), _cleaned(rps.clean_mac), _mac_free],
                     _l("With or without separators, e.g. 00:15:65:12:34:56.")),
        "server_url": _text(_l("Server URL"), [DataRequired(), _cleaned(rps.clean_server_url)],
                            _l("Where the device is redirected, e.g. https://dm.example.com/.")),
        "unique_url": _text(_l("Unique URL"), [_cleaned(rps.clean_unique_url)],
                            _l("Optional: the device's own provisioning URL.")),
        "ip": _text(_l("IP Address"), [_cleaned(rps.clean_ip)]),
    }
    add_form_extra_fields = {
        "enterprise": QuerySelectField(
            _l("Enterprise"), validators=[_EnterpriseChosen()], query_func=_rps_enterprises,
            get_pk_func=lambda e: e.id, allow_blank=True, blank_text=_l(rps.NO_ENTERPRISE),
            widget=Select2Widget()),
        **edit_form_extra_fields,
    }

    def item_name(self, item):
        return format_mac(item.mac)  # "RPS device 00:15:65:12:34:56 added."

    def parse_list_request(self):
        req = super().parse_list_request()
        # MACs are stored bare and lowercase; an IP or a URL is searched as typed.
        if _MAC_PREFIX.match(req.q):
            req.q = req.q.replace(":", "").replace("-", "").lower()
        return req

    def list_base_query(self):
        query = select(RpsDevice).outerjoin(RpsDevice.enterprise).options(
            contains_eager(RpsDevice.enterprise))
        return scope.visible_rps_devices(query)

    def list_count_query(self):
        return scope.visible_rps_devices(select(RpsDevice.id))

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        if _own_enterprise_fixed():
            exclude_cols = [*(exclude_cols or []), "enterprise"]
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _validate(self, item):
        # FAB shows a refusal raised here as a message and saves nothing.
        try:
            rps.validate_rps_device(self.datamodel.session, item)
        except rps.RpsError as error:
            raise ValueError(_message(error)) from None

    def pre_add(self, item):
        principal = scope.current_principal()
        if principal.kind == AccountKind.enterprise:
            item.enterprise = self.datamodel.session.get(Enterprise, principal.enterprise_id)
        self._validate(item)

    def pre_update(self, item):
        self._validate(item)

    # FAB returns to the page it recorded before the form; the fast list records none.
    def post_add_redirect(self):
        return redirect(url_for(".list"))

    post_edit_redirect = post_delete_redirect = post_add_redirect

    @action("muldelete", _l("Delete"), _l("Delete the selected RPS devices?"), "fa-trash",
            single=False)
    def muldelete(self, items):
        # The items arrive already scope-checked by action_post (one forged id: 404).
        items = items if isinstance(items, list) else [items]
        names = names_text(format_mac(d.mac) for d in items)
        self.datamodel.delete_all(items)
        flash(gettext("Deleted RPS devices: %(names)s.", names=names), "success")
        return redirect(url_for(".list"))
