"""Malformed input refused before any view runs, on every route (ours and FAB's stock
screens alike, so a new screen is covered by being registered): a 4xx page with a message
instead of the 500 that FAB's own parsing raises."""

import re

from flask import abort, current_app, request
from flask_appbuilder.api import BaseApi

from app.core.scope import parse_pk

# FAB's list arguments, matched as FAB matches them (anywhere in the argument's name):
# "page_"/"psize_" are read with int() and page unbounded (OFFSET page × size); "_oc_<view>"
# sorts by whatever column it names (a SQL compile error on an unknown one); "_flt_<n>_<col>"
# takes the column's n-th filter (an IndexError past the last) and binds its value as it
# came (an OverflowError past 64 bits).
_FAB_PAGING = re.compile(r"(page|psize)_")
_FAB_ORDER = re.compile(r"_oc_(.*)")
_FAB_FILTER = re.compile(r"_flt_(\d)_(.*)")
_INTEGER = re.compile(r"[+-]?\d+")
MAX_PAGE = 1_000_000
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _view_of(endpoint):
    """The FAB view instance serving an endpoint (its routes are bound methods), or None."""
    return getattr(current_app.view_functions.get(endpoint), "__self__", None)


def _digits(value):
    return value.isascii() and value.isdigit()


def _paging_ok(kind, value):
    if not _digits(value):
        return False
    if kind == "psize":
        return 1 <= int(value) <= current_app.config["LIST_MAX_PAGE_SIZE"]
    return int(value) <= MAX_PAGE


def _order_ok(view_name, value):
    view = next((v for v in current_app.appbuilder.baseviews
                 if type(v).__name__ == view_name), None)
    return view is None or value in (getattr(view, "order_columns", None) or ())


def _filter_ok(view, index, column, value):
    if _INTEGER.fullmatch(value.strip()) and not -(2**63) <= int(value) < 2**63:
        return False
    # FAB indexes every column's filters on add and edit pages, the search's on lists.
    column_filters = (getattr(getattr(view, "_filters", None), "_all_filters", None)
                      or {}).get(column)
    return column_filters is None or int(index) < len(column_filters)


def _fab_list_arg_ok(view, name, value):
    if (match := _FAB_PAGING.search(name)) and not _paging_ok(match.group(1), value):
        return False
    if (match := _FAB_ORDER.search(name)) and not _order_ok(match.group(1), value):
        return False
    return not (match := _FAB_FILTER.search(name)) or _filter_ok(view, *match.groups(), value)


def refuse_malformed_input():
    args = request.view_args or {}
    # An id is a positive 64-bit integer; FAB would hand anything to the database.
    if "pk" in args and parse_pk(args["pk"]) is None:
        abort(404)
    view = _view_of(request.endpoint)
    # FAB's action routes look an unknown name up as None and crash on it.
    if (request.endpoint or "").endswith(".action") and "name" in args and (
            args["name"] not in (getattr(view, "actions", None) or {})):
        abort(404)
    # FAB's chart views index their definitions with it.
    definitions = getattr(view, "definitions", None)
    if "group_by" in args and definitions is not None and not (
            _digits(args["group_by"]) and int(args["group_by"]) < len(definitions)):
        abort(404)
    if not all(_fab_list_arg_ok(view, name, value)
               for name, value in request.args.items(multi=True)):
        abort(400)
    # Flask-WTF reads a JSON body as the form (a list or nested values crash it); our pages
    # post forms, and only the REST API takes JSON.
    if (request.method not in SAFE_METHODS and request.is_json
            and not isinstance(view, BaseApi)):
        abort(400)


def init_input_guards(app):
    app.before_request(refuse_malformed_input)
