"""The vendor's order settings: the packages channels sell, and each channel's limit on open
paid orders. Only the platform administrator has these screens (no role grants them)."""

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from wtforms.validators import DataRequired, Length, NumberRange

from app.accounts.rules import _N
from app.core.form_fields import QuerySelectField
from app.core.listing import Col
from app.core.scoped_view import ScopedInterface
from app.core.show import LazyBadge
from app.core.views import FastScopedModelView
from app.extensions import db
from app.models import Channel, Order, OrderLimit, Package
from app.orders import rules as orders
from app.tenancy.rules import TenantError

_OFFERED, _RETIRED = LazyBadge(_l("Offered"), "success"), LazyBadge(_l("Not offered"), "default")


class PackageModelView(FastScopedModelView):
    """The channel screens' list and look (FAB's stock list had its "Search" bar and "Record
    Count"); packages carry no tenant data, so the scoped interface passes them unchanged."""

    datamodel = ScopedInterface(Package)
    noun = _l("Package")
    list_title = _l("Packages")
    list_cols = [
        Col("name", _l("Package Name"), lambda p: p.name),
        Col("max_devices", _l("Max Devices"), lambda p: f"{p.max_devices:,}"),
        Col("duration_months", _l("Duration (months)"), lambda p: p.duration_months),
        Col("active", _l("Offered"), lambda p: _OFFERED if p.active else _RETIRED),
    ]
    search_exprs = [Package.name]
    search_contains = True  # a handful of packages
    default_sort = ("id", False)
    add_columns = edit_columns = ["name", "max_devices", "duration_months", "active"]
    show_columns = ["name", "max_devices", "duration_months", "active", "created_on"]
    label_columns = {
        "name": _l("Package Name"), "max_devices": _l("Max Devices"),
        "duration_months": _l("Duration (months)"), "active": _l("Offered"),
        "created_on": _l("Created"),
    }
    description_columns = {
        "max_devices": _l("Devices per package ordered; an order of 3 manages three times as "
                          "many."),
        "duration_months": _l("The duration a new order starts with; the channel may change "
                              "it."),
        "active": _l("Only offered packages can be ordered. Packages already sold stay on "
                     "their orders."),
    }
    validators_columns = {
        "name": [DataRequired(), Length(max=128)],
        "max_devices": [DataRequired(), NumberRange(min=1, max=1_000_000)],
        "duration_months": [DataRequired(),
                            NumberRange(min=1, max=orders.MAX_DURATION_MONTHS)],
    }

    def pre_delete(self, item):
        # Orders keep the package they were sold from: retire it instead.
        sold = db.session.execute(
            select(Order.id).where(Order.package_id == item.id).limit(1)).first()
        if sold is not None:
            raise TenantError(_N("Package %(name)s was sold: stop offering it instead of "
                                 "deleting it."), name=item.name)

    def list_base_query(self):
        return select(Package)


def _channels():
    return db.session.execute(select(Channel).order_by(Channel.name)).scalars().all()


class OrderLimitModelView(FastScopedModelView):
    datamodel = ScopedInterface(OrderLimit)
    noun = _l("Order limit")
    list_title = _l("Order Limits")
    list_cols = [
        Col("channel", _l("Channel"), lambda o: o.channel.name),
        Col("max_open_orders", _l("Open paid orders allowed"), lambda o: o.max_open_orders),
    ]
    search_exprs = [Channel.name]
    search_contains = True
    default_sort = ("id", False)
    add_columns = edit_columns = show_columns = ["channel", "max_open_orders"]
    label_columns = {"channel": _l("Channel"),
                     "max_open_orders": _l("Open paid orders allowed")}
    description_columns = {
        "max_open_orders": _l("Orders not yet effective or effective that the channel may "
                              "have at once; past it, Add Order tells the channel to contact "
                              "the vendor."),
    }
    validators_columns = {
        "max_open_orders": [NumberRange(min=0, max=1_000_000)],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "channel": QuerySelectField(_l("Channel"), query_func=_channels,
                                    get_pk_func=lambda c: c.id, validators=[DataRequired()],
                                    widget=Select2Widget()),
    }

    def item_name(self, item):
        return item.channel.name

    def added_message(self, item):
        return gettext("%(name)s may now have %(n)s open paid orders.",
                       name=item.channel.name, n=item.max_open_orders)

    changed_message = added_message

    def deleted_message(self, name):
        return gettext("The order limit of %(name)s was removed: it may place any number of "
                       "orders.", name=name)

    def list_base_query(self):
        return select(OrderLimit).join(OrderLimit.channel).options(
            contains_eager(OrderLimit.channel))

    def pre_add(self, item):
        self._one_per_channel(item)

    def pre_update(self, item):
        self._one_per_channel(item)

    def _one_per_channel(self, item):
        taken = db.session.execute(select(OrderLimit.id).where(
            OrderLimit.channel_id == item.channel.id,
            OrderLimit.id != (item.id or -1)).limit(1)).first()
        if taken is not None:
            raise TenantError(_N("%(name)s already has a limit: edit it instead."),
                              name=item.channel.name)
