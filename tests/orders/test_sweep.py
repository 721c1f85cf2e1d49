"""The order sweep (app/orders/rules.py): orders become effective on their date and expire at
the end of their period, idempotently, after downtime, and exactly once however many sweepers
run, up to three real `flask ymcs scheduler` processes.

The sweep moves every order in the database, so this module has a database of its own (SQLite,
or MariaDB with YMCS_TEST_DB=mariadb), emptied of orders after each test: the shared one holds
other tests' orders, and their dates are not ours.
"""

import datetime
import signal
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from app.core import leases, scope
from app.core.jobs import LEASE_NAME, JobRegistry, Ticker
from app.extensions import db
from app.models import (
    Account,
    Order,
    OrderEvent,
    OrderLimit,
    OrderStatus,
    OutboxMessage,
)
from app.orders.rules import (
    OrderError,
    cancel_order,
    device_quota,
    place_order,
    sweep_orders,
    sweep_orders_job,
    today,
)

from ..conftest import create_test_database, ids_of, make_app, migrate_and_sync
from ..helpers import new_package, wait_until
from ..jobs_fixture import (
    kill_all,
    outputs,
    read_tick_log,
    runs_of,
    scheduler_env,
    start_flask,
)
from ..smtp import closed_port
from ..tree import build_tree

D = datetime.date
PENDING, EFFECTIVE = OrderStatus.pending, OrderStatus.effective
EXPIRED, CANCELLED = OrderStatus.expired, OrderStatus.cancelled


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    url, drop = create_test_database(tmp_path_factory.mktemp("sweep-db"))
    app = make_app(url)
    migrate_and_sync(app)
    with app.app_context():
        tree = ids_of(build_tree(db.session, "sw"))
        package_id = new_package(db.session, 10, name="Sweep 10").id
    yield SimpleNamespace(app=app, url=url, tree=tree, package=package_id)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def session(sweep_db):
    with sweep_db.app.app_context():
        yield db.session
        db.session.rollback()
        for model in (OrderEvent, Order, OutboxMessage, OrderLimit):
            db.session.execute(delete(model))
        db.session.commit()


@pytest.fixture
def place(sweep_db, session):
    """place(effective_on, months=1, on=None) -> order id, placed by C for E and committed;
    ``on`` (the day it is placed) defaults to the day before: the order is pending."""

    def _place(effective_on, months=1, on=None, enterprise=None, commit=True):
        t = sweep_db.tree
        order = place_order(
            session, scope.principal_of(session.get(Account, t.c)),
            enterprise_id=enterprise or t.E, reseller="Sweep Reseller",
            package_id=sweep_db.package, quantity=1, duration_months=months,
            effective_on=effective_on, by="tester", on=on or effective_on - days(1))
        if commit:
            session.commit()
        else:
            session.flush()
        return order.id

    return _place


def status_of(session, order_id):
    session.rollback()  # a fresh read (MariaDB keeps a snapshot per transaction)
    return session.execute(select(Order.status).where(Order.id == order_id)).scalar_one()


def statuses(session, ids):
    session.rollback()
    return dict(session.execute(select(Order.id, Order.status).where(Order.id.in_(ids))).all())


def history(session, order_id):
    session.rollback()
    return [(e.event, e.by) for e in session.execute(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).scalars()]


def events(session, ids):
    """{order id: [event, ...]} in the order they were recorded."""
    session.rollback()
    found = {order_id: [] for order_id in ids}
    for order_id, name in session.execute(
            select(OrderEvent.order_id, OrderEvent.event)
            .where(OrderEvent.order_id.in_(ids)).order_by(OrderEvent.id)):
        found[order_id].append(name)
    return found


# --- one sweeper -----------------------------------------------------------------------------


def test_an_order_becomes_effective_on_its_date_and_expires_after_its_period(
        session, place, sweep_db):
    order = place(D(2030, 3, 10), months=1)  # covers 2030-03-10 .. 2030-04-09
    enterprise = sweep_db.tree.E

    assert sweep_orders(session, on=D(2030, 3, 9), by="sweeper") == (0, 0)
    assert status_of(session, order) == PENDING

    assert sweep_orders(session, on=D(2030, 3, 10), by="sweeper") == (1, 0)
    assert status_of(session, order) == EFFECTIVE
    assert device_quota(session, enterprise, on=D(2030, 3, 10)) == 10

    assert sweep_orders(session, on=D(2030, 4, 9), by="sweeper") == (0, 0)
    assert status_of(session, order) == EFFECTIVE

    assert sweep_orders(session, on=D(2030, 4, 10), by="sweeper") == (0, 1)
    assert status_of(session, order) == EXPIRED
    assert device_quota(session, enterprise, on=D(2030, 4, 10)) == 0
    assert history(session, order) == [
        ("placed", "tester"), ("activated", "sweeper"), ("expired", "sweeper")]


def test_sweeping_again_changes_nothing(session, place):
    ids = [place(D(2030, 3, 10)), place(D(2030, 3, 11), months=12), place(D(2030, 1, 5))]
    assert sweep_orders(session, on=D(2030, 3, 11), by="sweeper") == (2, 1)
    before = events(session, ids), statuses(session, ids)
    for _ in range(3):
        assert sweep_orders(session, on=D(2030, 3, 11), by="sweeper") == (0, 0)
    assert (events(session, ids), statuses(session, ids)) == before


def test_after_downtime_each_order_lands_where_its_dates_put_it(session, place, sweep_db):
    whole_period_passed = place(D(2030, 1, 10), months=1)
    started_meanwhile = place(D(2030, 2, 1), months=12)
    effective_and_over = place(D(2030, 1, 1), months=1, on=D(2030, 1, 1))  # effective at once
    still_to_come = place(D(2030, 9, 1), on=D(2030, 3, 1))
    cancelled = place(D(2030, 1, 20))
    cancel_order(session, session.get(Order, cancelled), by="tester", on=D(2030, 1, 19))
    session.commit()

    # Nothing ran from January to March 1st.
    assert sweep_orders(session, on=D(2030, 3, 1), by="sweeper") == (1, 2)
    assert statuses(session, [whole_period_passed, started_meanwhile, effective_and_over,
                              still_to_come, cancelled]) == {
        whole_period_passed: EXPIRED, started_meanwhile: EFFECTIVE,
        effective_and_over: EXPIRED, still_to_come: PENDING, cancelled: CANCELLED}
    # Straight to expired: it never was in service while anyone looked.
    assert history(session, whole_period_passed) == [("placed", "tester"),
                                                     ("expired", "sweeper")]
    assert history(session, effective_and_over) == [
        ("placed", "tester"), ("activated", "tester"), ("expired", "sweeper")]
    assert history(session, cancelled) == [("placed", "tester"), ("cancelled", "tester")]
    assert history(session, still_to_come) == [("placed", "tester")]
    assert device_quota(session, sweep_db.tree.E, on=D(2030, 3, 1)) == 10


def test_a_cancelled_order_is_never_activated_or_expired(session, place):
    order = place(D(2030, 5, 1))
    cancel_order(session, session.get(Order, order), by="tester", on=D(2030, 4, 1))
    session.commit()
    for day in (D(2030, 5, 1), D(2030, 6, 1), D(2031, 1, 1)):
        assert sweep_orders(session, on=day, by="sweeper") == (0, 0)
    assert status_of(session, order) == CANCELLED


def test_more_due_orders_than_a_batch_are_all_moved(session, place):
    due = [place(D(2030, 3, 1), months=12) for _ in range(11)]
    over = [place(D(2030, 1, 1), months=1) for _ in range(6)]
    assert sweep_orders(session, on=D(2030, 3, 1), by="sweeper", batch=4) == (11, 6)
    assert set(statuses(session, due).values()) == {EFFECTIVE}
    assert set(statuses(session, over).values()) == {EXPIRED}


def test_expired_orders_free_the_channels_place_under_its_limit(session, place, sweep_db):
    session.add(OrderLimit(channel_id=sweep_db.tree.C, max_open_orders=1))
    session.commit()
    place(D(2030, 3, 1), months=1)
    with pytest.raises(OrderError, match="Contact Yealink"):
        place(D(2030, 3, 5), on=D(2030, 3, 1))
    session.rollback()
    # Its period has ended, but until the sweep says so it is still open.
    with pytest.raises(OrderError, match="Contact Yealink"):
        place(D(2030, 4, 5), on=D(2030, 4, 1))
    session.rollback()
    sweep_orders(session, on=D(2030, 4, 1), by="sweeper")
    assert status_of(session, place(D(2030, 4, 5), on=D(2030, 4, 1))) == PENDING


def test_an_order_over_before_the_sweep_reaches_it_is_never_activated(
        session, place, sweep_db):
    """An order whose whole period has passed appears while the sweep runs, after its expiry
    step, between two batches of its activation step (here: committed just then by another
    session, as data added while a scheduler runs is). It must wait for the next sweep's
    expiry, never be activated on its way."""
    due = place(D(2030, 2, 1), months=12)
    engine = db.engine
    state = {"activation_selects": 0}

    def commit_an_old_order(_conn, _cursor, statement, *_args):
        if not (statement.startswith("SELECT") and "service_order.effective_on <=" in statement):
            return
        state["activation_selects"] += 1
        if state["activation_selects"] == 2:  # the first batch is done and committed
            with Session(engine) as other:
                t = sweep_db.tree
                order = place_order(
                    other, scope.principal_of(other.get(Account, t.c)), enterprise_id=t.E,
                    reseller="Late", package_id=sweep_db.package, quantity=1,
                    duration_months=1, effective_on=D(2030, 1, 10), by="tester",
                    on=D(2030, 1, 9))
                other.commit()
                state["late"] = order.id

    event.listen(engine, "before_cursor_execute", commit_an_old_order)
    try:
        assert sweep_orders(session, on=D(2030, 3, 1), by="sweeper") == (1, 0)
    finally:
        event.remove(engine, "before_cursor_execute", commit_an_old_order)
    late = state["late"]
    assert status_of(session, due) == EFFECTIVE
    assert status_of(session, late) == PENDING
    assert sweep_orders(session, on=D(2030, 3, 1), by="sweeper") == (0, 1)
    assert history(session, late) == [("placed", "tester"), ("expired", "sweeper")]


# --- the sweep against cancelling ------------------------------------------------------------


def test_an_order_the_sweep_made_effective_cannot_be_cancelled(session, place):
    order = place(D(2030, 3, 10))
    sweep_orders(session, on=D(2030, 3, 10), by="sweeper")
    with pytest.raises(OrderError) as caught:
        cancel_order(session, session.get(Order, order), by="tester", on=D(2030, 3, 10))
    assert str(caught.value) == (
        f"Order {order} is already effective: effective orders cannot be cancelled.")


def test_an_order_the_sweep_expired_cannot_be_cancelled(session, place):
    order = place(D(2030, 3, 10))
    sweep_orders(session, on=D(2030, 4, 10), by="sweeper")
    with pytest.raises(OrderError) as caught:
        cancel_order(session, session.get(Order, order), by="tester", on=D(2030, 4, 10))
    assert str(caught.value) == f"Order {order} has expired: it cannot be cancelled."


def test_a_cancel_racing_the_sweep_leaves_the_order_effective_and_says_why(
        session, place, sweep_db):
    """The person opened the order on the day before its date (pending, cancellable) and
    confirmed as the sweep, already on the next day, made it effective."""
    order_id = place(D(2030, 3, 10))
    order = session.get(Order, order_id)
    assert order.status == PENDING  # what the person saw
    with Session(db.engine) as sweeper:  # another process, in effect
        assert sweep_orders(sweeper, on=D(2030, 3, 10), by="sweeper") == (1, 0)
    with pytest.raises(OrderError) as caught:
        cancel_order(session, order, by="tester", on=D(2030, 3, 9))
    assert str(caught.value) == (
        f"Order {order_id} is already effective: effective orders cannot be cancelled.")
    session.commit()
    assert status_of(session, order_id) == EFFECTIVE
    assert history(session, order_id) == [("placed", "tester"), ("activated", "sweeper")]


# --- several sweepers at once ------------------------------------------------------------------


def test_sweepers_running_at_once_record_each_transition_once(session, place, sweep_db):
    """Sweeps overlap when a job outlives its lease: the conditional updates, not the lease,
    keep each transition to one history row."""
    to_activate = [place(D(2030, 3, 1), months=12) for _ in range(40)]
    to_expire = [place(D(2030, 1, 1), months=1, on=D(2030, 1, 1)) for _ in range(20)]
    never_active = [place(D(2030, 1, 10), months=1) for _ in range(20)]
    app = sweep_db.app
    sweepers = 4
    start = threading.Barrier(sweepers)
    results, errors = [], []

    def sweeper(name):
        with app.app_context(), Session(db.engine) as own:
            start.wait(60)
            try:
                results.append(sweep_orders(own, on=D(2030, 3, 1), by=name, batch=7))
            except Exception as error:  # reported by the assertion below
                errors.append(repr(error))

    threads = [threading.Thread(target=sweeper, args=(f"s{i}",)) for i in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert (sum(a for a, _ in results), sum(e for _, e in results)) == (40, 40)
    found = events(session, to_activate + to_expire + never_active)
    assert {tuple(found[i]) for i in to_activate} == {("placed", "activated")}
    assert {tuple(found[i]) for i in to_expire} == {("placed", "activated", "expired")}
    assert {tuple(found[i]) for i in never_active} == {("placed", "expired")}


def test_the_scheduled_job_records_the_scheduler_that_ran_it(session, place, sweep_db):
    # The job sweeps as of the real date.
    order = place(today() - days(2), months=12, on=today() - days(3))
    registry = JobRegistry()
    registry.add("sweep_orders", sweep_orders_job, seconds=60)
    lease = f"test-{uuid.uuid4().hex[:8]}"
    Ticker(sweep_db.app, registry, "holder-x", lease).tick()
    assert status_of(session, order) == EFFECTIVE
    assert history(session, order)[-1] == ("activated", "holder-x")


# --- three real scheduler processes ----------------------------------------------------------

TICK, LEASE = 1, 3


def add_batch(session, place, n):
    """Orders for the processes' sweep, which runs as of the real date: ``n`` to activate,
    ``n`` whose whole period passed long ago, ``n`` effective and long over; and two the
    sweep must leave alone (one to come, one cancelled)."""
    now = today()
    batch = SimpleNamespace(
        activate=[place(now - days(3), months=12, on=now - days(4)) for _ in range(n)],
        straight=[place(D(2020, 1, 2), months=1, on=D(2020, 1, 1)) for _ in range(n)],
        expire=[place(D(2020, 3, 1), months=1, on=D(2020, 3, 1)) for _ in range(n)],
        to_come=place(now + days(30), on=now),
        # placed and cancelled in one transaction: a running sweep must never see it pending
        # (it would expire it first, and the cancel would be refused)
        cancelled=place(D(2020, 2, 1), on=D(2020, 1, 1), commit=False),
    )
    cancel_order(session, session.get(Order, batch.cancelled), by="tester", on=D(2020, 1, 1))
    session.commit()
    return batch


def swept(session, batch):
    found = statuses(session, batch.activate + batch.straight + batch.expire)
    return (all(found[i] == EFFECTIVE for i in batch.activate)
            and all(found[i] == EXPIRED for i in batch.straight + batch.expire))


def sweeper_pids(session, ids):
    """The pids of the scheduler processes that recorded the sweep's events of ``ids``."""
    session.rollback()
    holders = session.execute(select(OrderEvent.by).where(
        OrderEvent.order_id.in_(ids), OrderEvent.by != "tester").distinct()).scalars()
    return {pid_of(holder) for holder in holders}


def pid_of(holder):
    return int(holder.rsplit(":", 2)[1])  # host:pid:random (app.jobs.new_holder_id)


def lease_holder_pid(session):
    holder = wait_until(lambda: leases.current_holder(session, LEASE_NAME), timeout=30)
    return pid_of(holder)


def all_ids(batch):
    return batch.activate + batch.straight + batch.expire + [batch.to_come, batch.cancelled]


@pytest.fixture
def no_relay():
    """The port of a mail relay that refuses every connection."""
    with closed_port() as port:
        yield port


def test_three_scheduler_processes_sweep_each_order_exactly_once(
        session, place, sweep_db, tmp_path, no_relay):
    env = scheduler_env(sweep_db.url, tmp_path, TICK, LEASE)
    env.update(ORDER_SWEEP_SECONDS="1",  # every tick
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(no_relay))
    tick_log = env["YMCS_TEST_TICK_LOG"]
    first_batch = add_batch(session, place, 30)
    procs = {}
    try:
        for i in range(3):
            proc = start_flask(["ymcs", "scheduler"], env, tmp_path / f"scheduler{i}.out")
            procs[proc.pid] = proc
        wait_until(lambda: swept(session, first_batch), timeout=90)
        first = lease_holder_pid(session)
        assert first in procs, outputs(tmp_path)

        procs[first].kill()  # kill -9, perhaps in the middle of a sweep: the lease runs out
        procs[first].wait()
        second_batch = add_batch(session, place, 30)
        wait_until(lambda: swept(session, second_batch), timeout=90)
        second = lease_holder_pid(session)
        assert second in procs and second != first, outputs(tmp_path)

        procs[second].terminate()  # SIGTERM: a clean stop releases the lease
        assert procs[second].wait(30) == 0, outputs(tmp_path)
        (third,) = set(procs) - {first, second}
        third_batch = add_batch(session, place, 30)
        wait_until(lambda: swept(session, third_batch), timeout=90)
        # Let the last one sweep a few more times over orders already moved.
        done_at = time.time()
        wait_until(lambda: len([t for t in runs_of(read_tick_log(tick_log), third)
                                if t > done_at]) >= 3, timeout=60)
        procs[third].send_signal(signal.SIGINT)
        assert procs[third].wait(30) == 0, outputs(tmp_path)
    finally:
        kill_all(procs.values())

    batches = (first_batch, second_batch, third_batch)
    found = events(session, [i for batch in batches for i in all_ids(batch)])
    for batch in batches:
        assert {tuple(found[i]) for i in batch.activate} == {("placed", "activated")}
        assert {tuple(found[i]) for i in batch.straight} == {("placed", "expired")}
        assert {tuple(found[i]) for i in batch.expire} == {("placed", "activated", "expired")}
        assert found[batch.to_come] == ["placed"]
        assert found[batch.cancelled] == ["placed", "cancelled"]
        assert statuses(session, [batch.to_come, batch.cancelled]) == {
            batch.to_come: PENDING, batch.cancelled: CANCELLED}
    # Who swept: only our processes; never a dead one; the last batch by the last process.
    swept_by = [sweeper_pids(session, all_ids(batch)) for batch in batches]
    assert swept_by[0] <= set(procs)
    assert first not in swept_by[1] and swept_by[1] <= set(procs)
    assert swept_by[2] == {third}
    assert session.execute(select(func.count()).select_from(OrderEvent).where(
        OrderEvent.by != "tester")).scalar_one() == 3 * (30 + 30 + 30)
