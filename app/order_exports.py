"""The two Excel exports over orders: the order list and the statement list.

Each declares its columns once (header, kind) and how a query row becomes a sheet row. The
rows are exactly the list's (app/order_queries.export_query: scope, criteria, order); only the
columns a sheet needs are selected, so the database sends less and each row converts with a
few index lookups. Headers, status labels and the statement's "order content" are
translated once per export, in the language of the person who asked for it: the job runs
outside their request.
"""

import datetime
import re
from dataclasses import dataclass

from flask_babel import force_locale, gettext
from sqlalchemy import String, type_coerce

from . import order_queries
from .exports import DATE, DATETIME, LABEL, NUMBER, TEXT, Column
from .models import Channel, Enterprise, Order
from .order_queries import ORDERS, STATEMENTS, STATUS_LABELS

KINDS = (ORDERS, STATEMENTS)

# Status as its stored text: the Enum type's conversion of every row is not needed for a label.
_STATUS_TEXT = type_coerce(Order.status, String()).label("status")

_ORDER_SELECT = (
    Order.id, Order.created_on, Enterprise.name.label("enterprise_name"),
    Channel.name.label("distributor"), Order.reseller, Order.package_name, Order.quantity,
    Order.max_devices, Order.duration_months, Order.effective_on, Order.expires_on, _STATUS_TEXT,
)
_STATEMENT_SELECT = (
    Order.id, Order.created_on, Enterprise.name.label("enterprise_name"), Order.package_name,
    Order.quantity, Order.max_devices, _STATUS_TEXT, Order.duration_months,
)
# The statement list's own text for the order content (app/order_views.py).
CONTENT_TEMPLATE = "%(package)s × %(quantity)s (%(devices)s devices)"


@dataclass(frozen=True)
class SheetSpec:
    """One export as the writer needs it: columns, and rows from query rows."""

    columns: list
    convert: object  # query row -> tuple of cell values


def export_select(kind, criteria, principal):
    """The list's rows under ``criteria`` (scope, filters, order), narrowed to the columns
    the sheet of ``kind`` uses."""
    columns = _STATEMENT_SELECT if kind == STATEMENTS else _ORDER_SELECT
    return order_queries.export_query(kind, criteria, principal).with_only_columns(
        *columns, maintain_column_froms=False)


def sheet_spec(kind, language):
    """Columns and row conversion of ``kind``, translated into ``language``."""
    with force_locale(language or "en"):
        labels = {value: gettext(text) for value, text in STATUS_LABELS.items()}
        if kind == STATEMENTS:
            return SheetSpec(_statement_columns(), _statement_converter(labels))
        if kind == ORDERS:
            return SheetSpec(_order_columns(), _order_converter(labels))
    raise ValueError(f"unknown export kind {kind!r}")


def _order_columns():
    return [
        Column(gettext("Order ID"), NUMBER),
        Column(gettext("Order Time"), DATETIME),
        Column(gettext("Enterprise"), TEXT),
        Column(gettext("Distributor"), TEXT),
        Column(gettext("Reseller"), TEXT),
        Column(gettext("Package"), TEXT),
        Column(gettext("Quantity"), NUMBER),
        Column(gettext("Max Devices"), NUMBER),
        Column(gettext("Service Duration (months)"), NUMBER),
        Column(gettext("Effective Date"), DATE),
        Column(gettext("Expiration Date"), DATE),
        Column(gettext("Status"), LABEL),
    ]


def _order_converter(labels):
    def convert(r):
        # The list's Expiration Date is expires_on (the first day no longer covered).
        return (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                labels.get(r[11], r[11]))

    return convert


def _statement_columns():
    return [
        Column(gettext("Order ID"), NUMBER),
        Column(gettext("Order Time"), DATETIME),
        Column(gettext("Enterprise"), TEXT),
        Column(gettext("Order Content"), TEXT),
        Column(gettext("Status"), LABEL),
        Column(gettext("Duration (months)"), NUMBER),
    ]


def _statement_converter(labels):
    # The translated template turned positional once, instead of a dict per row: its
    # placeholders may come in any order in another language.
    template = gettext(CONTENT_TEMPLATE)
    names = re.findall(r"%\((\w+)\)s", template)
    positions = {"package": 3, "quantity": 4, "devices": 5}
    if sorted(names) != sorted(positions):  # a broken translation: fall back to English
        template, names = CONTENT_TEMPLATE, ["package", "quantity", "devices"]
    fmt = re.sub(r"%\((\w+)\)s", "%s", template.replace("%%", "\0")).replace("\0", "%%")
    a, b, c = (positions[name] for name in names)

    def convert(r):
        return (r[0], r[1], r[2], fmt % (r[a], r[b], r[c]), labels.get(r[6], r[6]), r[7])

    return convert


def file_name(kind, when: datetime.datetime):
    """The name a download gets, e.g. orders-20261126-0930.xlsx."""
    return f"{kind}-{when:%Y%m%d-%H%M}.xlsx"
