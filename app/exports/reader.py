"""A big export's rows, read from MariaDB by a helper process so that two cores share the work.

Measured at 1,000,000 statement rows: PyMySQL decodes rows in pure Python, 6.3 µs a row, 14%
of the time openpyxl then needs to write them, and one thread cannot do both at once (the GIL;
mysqlclient decodes in C, but fetching still holds it). Here a child process (Python with the
engine's driver only, mysqlclient or PyMySQL: about 15 MB, no app) runs the query through a
server-side cursor and sends batches of plain tuples down a pipe in ``marshal`` format (ints
and strings; loading costs the writer ~0.3 µs a row); the writer converts and writes them.
For a queued export the writer is itself a lean process (app/exports/writer.py), this
process's parent.

The query is the one the app's worker built (scope, criteria, order): compiled by SQLAlchemy with
its parameters kept apart, exactly as SQLAlchemy itself hands them to the driver, never with the
values spliced into the text. The child's connection settings come from the engine's URL;
they travel through the pipe, not the command line. Other databases (SQLite) are read in the
worker's own thread.

This file runs as the child too (``python -P reader.py``): it imports nothing of the
app at the top, so the child stays small.
"""

import marshal
import pickle
import struct
import subprocess
import sys
from contextlib import contextmanager

_FRAME = struct.Struct("<I")  # the byte length of the marshalled batch that follows; 0 ends


class ExportReadError(RuntimeError):
    """The helper process could not read the rows (its error is the message)."""


_DRIVERS = ("mysqldb", "pymysql")  # the child speaks these (_child_main)


def can_read_aside(engine):
    return engine.dialect.name in ("mysql", "mariadb") and engine.dialect.driver in _DRIVERS


def compiled_statement(engine, query):
    """(SQL text, parameters) of ``query`` as ``engine``'s driver takes them: a dict for named
    parameter styles, a tuple for positional ones (SQLite's ``?``)."""
    compiled = query.compile(dialect=engine.dialect,
                             compile_kwargs={"render_postcompile": True})
    params = compiled.params
    # The type conversions SQLAlchemy applies to parameters before the driver sees them.
    for name, process in compiled._bind_processors.items():
        if name in params and process is not None:
            params[name] = process(params[name])
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    return compiled.string, params


@contextmanager
def rows_read_aside(engine, query, batch=2000):
    """An iterator over ``query``'s rows (tuples), read by a helper process; the process is
    ended when the block is left, however it is left."""
    sql, params = compiled_statement(engine, query)
    with rows_read_aside_sql(engine, sql, params, batch) as rows:
        yield rows


@contextmanager
def rows_read_aside_sql(engine, sql, params, batch=2000):
    """rows_read_aside for a statement compiled already (compiled_statement)."""
    _args, connect = engine.dialect.create_connect_args(engine.url)
    child = subprocess.Popen([sys.executable, "-P", __file__], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        child.stdin.write(pickle.dumps({"driver": engine.dialect.driver, "connect": connect,
                                        "sql": sql, "params": params, "batch": batch}))
        child.stdin.close()
        yield _rows(child)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        for stream in (child.stdout, child.stderr):
            stream.close()


def _rows(child):
    read = child.stdout.read
    while True:
        header = read(_FRAME.size)
        if len(header) < _FRAME.size:
            raise ExportReadError(_child_error(child))
        (size,) = _FRAME.unpack(header)
        if size == 0:
            return
        data = read(size)
        if len(data) < size:
            raise ExportReadError(_child_error(child))
        yield from marshal.loads(data)


def _child_error(child):
    child.wait()
    message = child.stderr.read().decode("utf-8", "replace").strip()
    return message[-1000:] or f"the reader process ended with status {child.returncode}"


def _child_main():
    """Run the query from stdin's description; write its rows to stdout in frames."""
    spec = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        if spec["driver"] == "mysqldb":
            from MySQLdb import connect
            from MySQLdb.cursors import SSCursor
        else:
            from pymysql import connect
            from pymysql.cursors import SSCursor
        connection = connect(**spec["connect"])
        cursor = connection.cursor(SSCursor)
        cursor.execute(spec["sql"], spec["params"])
        while rows := cursor.fetchmany(spec["batch"]):
            data = marshal.dumps(rows)
            out.write(_FRAME.pack(len(data)))
            out.write(data)
        out.write(_FRAME.pack(0))
        out.flush()
    except BrokenPipeError:  # the worker stopped reading: it no longer wants the rows
        return 0
    except Exception as error:  # told to the worker through stderr and the exit status
        sys.stderr.write(f"{type(error).__name__}: {error}"[:1000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
