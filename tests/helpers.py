"""What many test modules need: waiting for an event, packages and orders as test data, and
the scheduler's export tick. (The tenant tree is tests/tree.py; ACS envelopes and credentials
are tests/acs_support.py.)"""

import contextlib
import threading
import time
import uuid

from sqlalchemy import event

from app.exports import jobs as export_jobs
from app.models import Enterprise, Order, OrderStatus, Package
from app.orders.rules import expiry_of, today


@contextlib.contextmanager
def served(app, name="live-portal"):
    """The app over real HTTP on 127.0.0.1 (a threaded werkzeug server): yields its base URL
    (``http://127.0.0.1:<port>``), for simulated devices and other real clients."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# How long a wait may last before the test fails. It bounds nothing a user sees: on a loaded
# machine the event comes later, and a wait returns as soon as it comes.
PATIENCE = 60.0


def wait_until(condition, timeout=PATIENCE, poll=0.05, what=None):
    """Poll ``condition`` until it returns something true; return that, or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"still waiting after {timeout:g}s"
                                 + (f" for {what}" if what else ""))
        time.sleep(poll)


@contextlib.contextmanager
def all_at_once_after(engine, matches, parties, timeout=5):
    """Make a race happen: a thread (other than the main one) that runs a statement
    ``matches(statement)`` accepts, on ``engine``, then waits until ``parties`` threads have
    run it. When a lock keeps the others from getting there, the wait breaks after
    ``timeout`` seconds and everyone goes on: the lock held."""
    met = threading.Barrier(parties, timeout=timeout)

    def after(_conn, _cursor, statement, *_args):
        if threading.current_thread() is not threading.main_thread() and matches(statement):
            try:
                met.wait()
            except threading.BrokenBarrierError:
                pass

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", after)


def counts_devices(statement):
    """The quota check's count of an enterprise's devices."""
    return statement.lstrip().lower().startswith("select count(") and "FROM device" in statement


def new_package(session, devices=10, months=12, *, name=None, active=True):
    """A package on offer (committed): ``devices`` per unit for ``months``."""
    package = Package(name=name or f"pkg-{uuid.uuid4().hex[:10]}", max_devices=devices,
                      duration_months=months, active=active)
    session.add(package)
    session.commit()
    return package


def new_order(session, enterprise_id, *, package=None, quantity=1, months=12,
              effective_on=None, status=None, channel_id=None, created_on=None,
              reseller="Resale Ltd"):
    """An order row as the rules would have left it, without the rules (flushed, not
    committed): by the enterprise's channel, effective from today unless told otherwise;
    pending while its date is to come."""
    package = package or new_package(session)
    effective_on = effective_on or today()
    if status is None:
        status = OrderStatus.pending if effective_on > today() else OrderStatus.effective
    if channel_id is None:
        channel_id = session.get(Enterprise, enterprise_id).channel_id
    order = Order(enterprise_id=enterprise_id, channel_id=channel_id, reseller=reseller,
                  package_id=package.id, package_name=package.name, quantity=quantity,
                  max_devices=package.max_devices * quantity, duration_months=months,
                  effective_on=effective_on, expires_on=expiry_of(effective_on, months),
                  status=status)
    if created_on is not None:
        order.created_on = created_on
    session.add(order)
    session.flush()
    return order


def run_export_ticks(app, job_id, ticks=50):
    """The scheduler's export job, tick after tick, until it has started ``job_id`` and its
    worker has finished (exports queued earlier by other tests go first)."""
    for _ in range(ticks):
        with app.app_context():
            started = export_jobs.start_exports_job()
            workers = export_jobs.running_workers(app)
        for thread in workers.values():
            thread.join(timeout=PATIENCE)
        if job_id in started:
            return
    raise AssertionError(f"export {job_id} was never started")
