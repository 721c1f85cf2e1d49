"""How a list query is steered on MySQL/MariaDB: which index hints its page and count
statements get, from what the WHERE clause does to the listed table (a tenant scope's
subquery, constants, ranges) and the indexes the table has. Other databases ignore the hints.

Measured at 1M devices / 1M orders (README, Performance): MariaDB's own plans drove big scopes
through the parent-key index and sorted every row in scope, or walked the sort index for rows
that cluster elsewhere; each rule below names the case it fixes.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList


def walk_in_order(query, table, keep=()):
    """Make MySQL/MariaDB read ``table`` first, in the ORDER BY's index order, stopping at the
    LIMIT; the scope's subquery is then checked per row by primary key lookups.

    Left alone, MariaDB flattens the scope's ``IN (subquery)`` into a join driven from the
    tenant tree through the parent-key index, reads every row in scope and sorts them: 2 s for
    a channel that sees 900k of 1M devices, however small the page. Hiding that index from
    joins (not from ORDER BY or ranges) leaves the ordered walk: 0.5 ms. STRAIGHT_JOIN would
    fix the order too, but it disables the semi-join and materializes the scope instead
    (10 ms). Other databases ignore the hint.

    Only the indexes of the columns the query scopes by a subquery are hidden (none when it
    has no such scope: the platform admin's), and not those of ``keep``: columns the query
    itself compares with a few constants (a search's ``enterprise_id IN (1, 2, 3)`` is read
    through that index).
    """
    return with_index_hints(
        query, table, join_hidden(table, criteria_of(query, table).scoped, keep), [])


def parent_columns(table):
    return {c.name for c in table.columns if c.foreign_keys}


def join_hidden(table, scoped, keep=()):
    """The parent-key indexes of the scoped columns, but those of ``keep``."""
    return [ix.name for ix in sorted(table.indexes, key=lambda ix: ix.name or "")
            if ix.name and list(ix.columns)[0].foreign_keys
            and list(ix.columns)[0].name in scoped and list(ix.columns)[0].name not in keep]


def with_index_hints(query, table, for_join, for_order_by):
    """One index hint per table (SQLAlchemy keeps a single hint per table and dialect)."""
    parts = []
    if for_join:
        parts.append(f"IGNORE INDEX FOR JOIN ({', '.join(for_join)})")
    if for_order_by:
        parts.append(f"IGNORE INDEX FOR ORDER BY ({', '.join(for_order_by)})")
    if not parts:
        return query
    for dialect in ("mysql", "mariadb"):
        query = query.with_hint(table, " ".join(parts), dialect_name=dialect)
    return query


# A date range of at most this many rows is read through its own index and sorted, rather
# than found by walking the sort order (a month of 1M orders over five years: 17,000 rows,
# 20-60 ms; walking the ids down to it from the newest: 200-500 ms).
RANGE_SORT_MAX = 20_000

# A search naming at most this many parents (``enterprise_id IN (...)``) keeps their index
# usable in a big scope, to find their few rows; with more (a prefix matching 250
# enterprises), MariaDB drove the plan from the scope through that index again (0.6-3 s).
KEEP_INDEX_MAX_VALUES = 50

_PINS = (operators.eq,)
_LISTS = (operators.eq, operators.in_op)
_BOUNDS = (operators.ge, operators.gt, operators.le, operators.lt)


def column_of(term, table):
    """The column of ``table`` a ``column <op> constant`` term compares, or None."""
    if not isinstance(term, BinaryExpression) or not isinstance(term.right, BindParameter):
        return None
    column = term.left
    if getattr(getattr(column, "table", None), "name", None) != table.name:
        return None
    return getattr(column, "name", None)


def and_terms(query):
    terms, stack = [], [] if query.whereclause is None else [query.whereclause]
    while stack:
        term = stack.pop()
        if isinstance(term, BooleanClauseList) and term.operator is operators.and_:
            stack.extend(term.clauses)
        else:
            terms.append(term)
    return terms


@dataclass
class Criteria:
    """What a list query's WHERE clause does to its own table."""

    pinned: set  # top-level ``column = constant``
    bounded: dict  # top-level ``column < constant`` and the like: {column: [terms]}
    constant: set  # ``column = / IN constants`` ANDed, or IN a few of them in an OR
    scoped: set  # top-level ``column IN (subquery)``: a tenant scope


def criteria_of(query, table):
    pinned, bounded, constant, scoped = set(), {}, set(), set()
    for term in and_terms(query):
        name = column_of(term, table)
        if name and term.operator in _LISTS:
            constant.add(name)  # ANDed: a range of its own, however many values
            if term.operator in _PINS:
                pinned.add(name)
        elif name and term.operator in _BOUNDS:
            bounded.setdefault(name, []).append(term)
        elif (isinstance(term, BinaryExpression) and term.operator is operators.in_op
              and not isinstance(term.right, BindParameter)
              and getattr(getattr(term.left, "table", None), "name", None) == table.name):
            scoped.add(term.left.name)
    if query.whereclause is not None:
        for term in visitors.iterate(query.whereclause):
            name = column_of(term, table)
            if name and term.operator in _LISTS and few_values(term.right):
                constant.add(name)
    return Criteria(pinned, bounded, constant, scoped)


def few_values(bind):
    """A constant, or a list of at most KEEP_INDEX_MAX_VALUES of them: few rows to find
    (one alternative of an OR is read through an index merge, which MariaDB weighs against
    driving from the scope, and with many values it chose the scope)."""
    value = bind.value
    return not isinstance(value, (list, tuple)) or len(value) <= KEEP_INDEX_MAX_VALUES


def index_columns(table):
    """[(hint name, [column names])]: the primary key (PRIMARY) and every named index."""
    out = [("PRIMARY", [c.name for c in table.primary_key.columns])]
    out += [(ix.name, [c.name for c in ix.columns])
            for ix in sorted(table.indexes, key=lambda ix: ix.name or "") if ix.name]
    return out


def sort_indexes(table, sort_name):
    """The indexes led by the sort column: those an ORDER BY walk would read."""
    return [name for name, cols in index_columns(table) if cols[0] == sort_name]


def filters_and_orders(table, pinned, sort_name, id_name):
    """Whether an index leads with the pinned columns and then orders by the sort column (and
    id, which InnoDB appends to every secondary index): status = 'effective' ORDER BY id
    read through (status, id) reads exactly one page."""
    for _name, cols in index_columns(table):
        lead = 0
        while lead < len(cols) and cols[lead] in pinned:
            lead += 1
        if lead == 0:
            continue
        rest = cols[lead:]
        if sort_name == id_name:
            if rest in ([], [id_name]):
                return True
        elif rest[:1] == [sort_name] and rest[1:] in ([], [id_name]):
            return True
    return False


def small_range(session, table, bounded, sort_name, limit):
    """Whether a range on another indexed column than the sort holds at most ``limit`` rows
    (counted on that column's index alone, without reading rows)."""
    indexed = {cols[0] for _name, cols in index_columns(table)}
    for name, terms in bounded.items():
        if name == sort_name or name not in indexed:
            continue
        probe = (select(table.c[name]).where(*terms).limit(1).offset(limit))
        if session.execute(probe).first() is None:
            return True
    return False
