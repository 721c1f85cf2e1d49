"""The two Excel exports over orders: the order list and the statement list.

Each declares its columns once (header, kind), the query columns behind them and how a query
row becomes a sheet row. The rows are exactly the list's (app/order_queries.export_query:
scope, criteria, order); only what a sheet shows is selected, so the database sends less and
a row converts with a few index lookups. Headers, status labels and the statement's "order
content" are translated once per export, in the language of the person who asked for it (the
job runs outside their request), and handed to the database as bound literals.
"""

import datetime
import re
from dataclasses import dataclass

from flask_babel import force_locale, gettext
from sqlalchemy import String, case, cast, literal, select, type_coerce

from app.core import query_plans, scope
from app.exports.xlsx import DATE, DATETIME, LABEL, LAST_DAY, NUMBER, TEXT, Column, row_converter
from app.models import Channel, Enterprise, Order
from app.orders import queries as order_queries
from app.orders.queries import ORDERS, STATEMENTS, STATUS_LABELS

KINDS = (ORDERS, STATEMENTS)

# The statement list's own text for the order content (app/orders/views.py).
CONTENT_TEMPLATE = "%(package)s × %(quantity)s (%(devices)s devices)"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Sheet:
    """One export as the writer needs it: columns, the query, and sheet rows from its rows."""

    columns: list
    query: object  # a Select
    convert: object  # query row -> sheet row (xlsx.row_converter of the columns)


def count_select(kind, criteria, principal):
    """The ids of the rows an export of ``kind`` under ``criteria`` holds (for counting)."""
    return order_queries.apply_criteria(
        scope.visible_orders(select(Order.id), principal), criteria, kind)


def export_sheet(kind, criteria, principal, language, walk_in_order=False):
    """Columns, query and row conversion of an export of ``kind`` in ``language``.

    The query is the list's (scope, criteria, order) narrowed to what the sheet shows, with
    the labels and the order content already in the database's answer, and the dates as
    text: PyMySQL decoding a DATETIME cost 2.4 of the 7.8 µs a row took to fetch (1M rows),
    ``fromisoformat`` 0.3. ``walk_in_order``: read the orders in the sort index's order
    instead of gathering and sorting every row in scope first (for an export that holds a
    large part of the table; see app/core/query_plans.py's walk_in_order).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    with force_locale(language or "en"):
        status = _status_label()
        if kind == STATEMENTS:
            columns, selected = _statement_sheet(status)
        else:
            columns, selected = _order_sheet(status)
    query = order_queries.export_query(kind, criteria, principal).with_only_columns(
        *selected, maintain_column_froms=False)
    if walk_in_order:
        query = query_plans.walk_in_order(query, Order.__table__)
    return Sheet(columns, query, row_converter(columns))


def _status_label():
    """The order status as its translated label, worked out by the database."""
    stored = type_coerce(Order.status, String())
    labels = {value: gettext(text) for value, text in STATUS_LABELS.items()}
    return case(labels, value=stored, else_=stored)


def _as_text(column):
    return cast(column, String())


def _order_sheet(status):
    columns = [
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
        Column(gettext("Expiration Date"), LAST_DAY),  # the last day of service, as the list
        Column(gettext("Status"), LABEL),
    ]
    selected = (
        Order.id, _as_text(Order.created_on), Enterprise.name, Channel.name, Order.reseller,
        Order.package_name, Order.quantity, Order.max_devices, Order.duration_months,
        _as_text(Order.effective_on), _as_text(Order.expires_on), status,
    )
    return columns, selected


def _statement_sheet(status):
    columns = [
        Column(gettext("Order ID"), NUMBER),
        Column(gettext("Order Time"), DATETIME),
        Column(gettext("Enterprise"), TEXT),
        Column(gettext("Order Content"), TEXT),
        Column(gettext("Status"), LABEL),
        Column(gettext("Duration (months)"), NUMBER),
    ]
    selected = (Order.id, _as_text(Order.created_on), Enterprise.name, _content(), status,
                Order.duration_months)
    return columns, selected


def _content():
    """The translated "order content" template as one SQL string expression (its
    placeholders may come in any order in another language)."""
    template = gettext(CONTENT_TEMPLATE)
    values = {"package": Order.package_name, "quantity": _as_text(Order.quantity),
              "devices": _as_text(Order.max_devices)}
    if sorted(_PLACEHOLDER.findall(template)) != sorted(values):
        template = CONTENT_TEMPLATE  # a broken translation: the English one
    pieces = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    parts = []
    for i, piece in enumerate(pieces):
        if i % 2:
            parts.append(values[piece])
        elif piece:
            parts.append(literal(piece.replace("%%", "%"), String()))
    expression = parts[0]
    for part in parts[1:]:
        expression = expression + part  # || on SQLite, concat() on MariaDB
    return expression


def file_name(kind, when: datetime.datetime):
    """The name a download gets, e.g. orders-20261126-0930.xlsx."""
    return f"{kind}-{when:%Y%m%d-%H%M}.xlsx"
