"""The periodic Inform's few statements, run on the connection's DBAPI cursor.

SQLAlchemy's execution of a cached statement (cache key, execution context, result metadata)
cost more CPU than the driver's own work for it. A ``Prepared`` statement is compiled once per
dialect and keeps what SQLAlchemy would apply: the SQL text, the order of its parameters, their
bind processors (a datetime on SQLite, a boolean), the result columns' processors (enums,
datetimes) and names. Driver errors are raised as SQLAlchemy's (``OperationalError`` with the
driver's error as ``orig``), and a lost connection is invalidated as SQLAlchemy would.

For statements without Python-side defaults or ``onupdate`` columns (refused when compiled).
"""

from collections import namedtuple

from sqlalchemy import exc


class _Compiled:
    __slots__ = ("sql", "names", "fixed", "processors", "columns", "row")

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if any(getattr(compiled, name, None) for name in ("insert_prefetch", "update_prefetch")):
            raise ValueError("Prepared statements take no column defaults")
        self.sql = compiled.string
        self.names = compiled.positiontup if compiled.positional else None
        self.fixed = {name: bind.effective_value for name, bind in compiled.binds.items()
                      if not bind.required}
        procs = compiled._bind_processors
        if self.names is not None:
            self.processors = [(i, procs[n]) for i, n in enumerate(self.names) if n in procs]
        else:
            self.processors = list(procs.items())
        self.columns = list(getattr(statement, "selected_columns", ()))
        self.row = None  # (namedtuple class, result processors), at the first result


class Prepared:
    def __init__(self, statement):
        self.statement = statement
        self._by_dialect = {}

    def _compiled(self, dialect):
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            compiled = self._by_dialect[dialect] = _Compiled(self.statement, dialect)
        return compiled

    def _run(self, conn, params):
        dialect = conn.dialect
        c = self._compiled(dialect)
        fixed = c.fixed
        if c.names is not None:
            args = [params[n] if n in params else fixed[n] for n in c.names]
        else:
            args = {**fixed, **params}
        for key, process in c.processors:
            args[key] = process(args[key])
        if not conn.in_transaction():
            conn.begin()  # as conn.execute would: conn.commit() then commits the writes
        dbapi_conn = conn.connection.dbapi_connection
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(c.sql, args)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            lost = dialect.is_disconnect(error, dbapi_conn, cursor)
            if lost:
                conn.invalidate(error)
            raise exc.DBAPIError.instance(c.sql, args, error, dialect.loaded_dbapi.Error,
                                          connection_invalidated=lost,
                                          dialect=dialect) from error
        return c, cursor

    def execute(self, conn, params):
        """Run a write; returns its rowcount."""
        _c, cursor = self._run(conn, params)
        count = cursor.rowcount
        cursor.close()
        return count

    def first(self, conn, params):
        """The first row (attribute access by the columns' keys, as a Row's), or None."""
        c, cursor = self._run(conn, params)
        raw = cursor.fetchone()
        if raw is not None and c.row is None:
            c.row = (namedtuple("Row", [col.key for col in c.columns]),
                     [(i, p) for i, p in enumerate(
                         col.type._cached_result_processor(conn.dialect, desc[1])
                         for col, desc in zip(c.columns, cursor.description, strict=True))
                      if p is not None])
        cursor.close()
        if raw is None:
            return None
        cls, processors = c.row
        if processors:
            raw = list(raw)
            for i, process in processors:
                raw[i] = process(raw[i])
        return cls._make(raw)
