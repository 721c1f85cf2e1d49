"""The scheduler: lease election, the ledger, the registry, and real scheduler processes.

Everything runs on the suite's database (SQLite, or MariaDB with YMCS_TEST_DB=mariadb); nothing
is skipped, so a CI run on MariaDB fails when the server is missing rather than passing quietly.
"""

import datetime
import os
import signal
import threading
import uuid

import click
import pytest
from flask.cli import run_command
from sqlalchemy import delete, select

from app.cli import scheduler_command
from app.core import leases
from app.core.jobs import (
    LEASE_NAME,
    JobRegistry,
    Ticker,
    job_registry,
    prune_job_runs,
    register_extra_jobs,
    should_embed_scheduler,
)
from app.extensions import db
from app.models import JobRun, SchedulerLease, utcnow

from ..helpers import wait_until
from ..jobs_fixture import (
    kill_all,
    outputs,
    pid_stretches,
    read_tick_log,
    runs_of,
    scheduler_env,
    schedulers_per_process,
    start_flask,
)

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0)


def seconds_after(moment, seconds):
    return moment + datetime.timedelta(seconds=seconds)


@pytest.fixture
def lease_name(app):
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    with app.app_context():  # the lease functions commit: leave no row behind
        db.session.execute(delete(SchedulerLease).where(SchedulerLease.name == name))
        db.session.commit()


# The lease


def test_first_holder_acquires_a_new_lease(db_session, lease_name):
    assert leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    assert leases.current_holder(db_session, lease_name, now=T0) == "a"


def test_holder_renews_its_lease(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    assert leases.try_acquire(db_session, lease_name, "a", 30, now=seconds_after(T0, 20))
    # Renewed: still a's at T0+45, when the first grant would have run out.
    assert not leases.try_acquire(db_session, lease_name, "b", 30, now=seconds_after(T0, 45))


def test_holder_renews_within_the_same_second(db_session, lease_name):
    # Nothing changes in the row; MariaDB must still report it matched.
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    assert leases.try_acquire(db_session, lease_name, "a", 30, now=T0)


def test_second_holder_is_refused_while_the_lease_is_valid(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    assert not leases.try_acquire(db_session, lease_name, "b", 30, now=seconds_after(T0, 29))
    assert leases.current_holder(db_session, lease_name, now=seconds_after(T0, 29)) == "a"


def test_standby_takes_over_an_expired_lease(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    assert leases.try_acquire(db_session, lease_name, "b", 30, now=seconds_after(T0, 31))
    # The old holder coming back finds it taken.
    assert not leases.try_acquire(db_session, lease_name, "a", 30, now=seconds_after(T0, 32))
    assert leases.current_holder(db_session, lease_name, now=seconds_after(T0, 32)) == "b"


def test_released_lease_is_taken_at_once(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    leases.release(db_session, lease_name, "a", now=seconds_after(T0, 1))
    assert leases.current_holder(db_session, lease_name, now=seconds_after(T0, 1)) is None
    assert leases.try_acquire(db_session, lease_name, "b", 30, now=seconds_after(T0, 1))


def test_release_by_another_process_changes_nothing(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    leases.release(db_session, lease_name, "b", now=seconds_after(T0, 1))
    assert leases.current_holder(db_session, lease_name, now=seconds_after(T0, 1)) == "a"


def test_losing_the_race_to_create_the_lease_is_a_refusal(db_session, lease_name):
    leases.try_acquire(db_session, lease_name, "a", 30, now=T0)
    expires = seconds_after(T0, 30)
    assert not leases._insert_first_lease(db_session, lease_name, "b", expires)
    assert leases.current_holder(db_session, lease_name, now=T0) == "a"


@pytest.mark.parametrize("existing", ["none", "expired"])
def test_racing_schedulers_elect_exactly_one_holder(app, db_session, lease_name, existing):
    if existing == "expired":
        leases.try_acquire(db_session, lease_name, "old", 1, now=T0)
    now = seconds_after(T0, 60)
    racers = 6
    barrier = threading.Barrier(racers)
    won, errors = [], []

    def race(holder):
        with app.app_context():  # a session, and a connection, of its own
            barrier.wait()
            try:
                if leases.try_acquire(db.session, lease_name, holder, 30, now=now):
                    won.append(holder)
            except Exception as error:  # a loser must be refused, not blow up
                errors.append(error)

    threads = [threading.Thread(target=race, args=(f"r{i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(won) == 1
    assert leases.current_holder(db_session, lease_name, now=now) == won[0]


# The ledger


def test_a_slot_is_claimed_once(db_session):
    job = f"digest-{uuid.uuid4().hex[:8]}"
    assert leases.claim_slot(db_session, job, "2026-01-01T00:00:00", "a")
    db_session.commit()
    assert not leases.claim_slot(db_session, job, "2026-01-01T00:00:00", "b")
    assert leases.claim_slot(db_session, job, "2026-01-02T00:00:00", "b")
    db_session.commit()


def test_a_rolled_back_claim_frees_the_slot(db_session):
    job = f"digest-{uuid.uuid4().hex[:8]}"
    assert leases.claim_slot(db_session, job, "2026-01-01T00:00:00", "a")
    db_session.rollback()  # the side effect failed to be recorded
    assert leases.claim_slot(db_session, job, "2026-01-01T00:00:00", "b")
    db_session.commit()


def test_time_slot_starts_where_the_period_starts():
    moment = datetime.datetime(2026, 3, 4, 17, 42, 9)
    assert leases.time_slot(moment, 86400) == "2026-03-04T00:00:00"
    assert leases.time_slot(moment, 3600) == "2026-03-04T17:00:00"
    assert leases.time_slot(moment, 600) == "2026-03-04T17:40:00"


def test_prune_job_runs_forgets_rows_older_than_30_days(db_session):
    job = f"prune-{uuid.uuid4().hex[:8]}"
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    db_session.add_all([
        JobRun(job=job, slot="old", holder="a", ran_at=now - datetime.timedelta(days=31)),
        JobRun(job=job, slot="recent", holder="a", ran_at=now - datetime.timedelta(days=29)),
    ])
    db_session.commit()
    assert prune_job_runs() >= 1
    assert [r.slot for r in db_session.query(JobRun).filter_by(job=job)] == ["recent"]
    db_session.execute(delete(JobRun).where(JobRun.job == job))
    db_session.commit()


# The registry


def test_app_registers_the_builtin_jobs(app):
    assert "prune_job_runs" in job_registry(app)


def test_a_job_name_is_registered_once():
    registry = JobRegistry()
    registry.add("sweep", lambda: None, seconds=60)
    with pytest.raises(ValueError):
        registry.add("sweep", lambda: None, seconds=60)


def test_a_job_needs_a_positive_interval():
    with pytest.raises(ValueError):
        JobRegistry().add("sweep", lambda: None, seconds=0)


def test_extra_jobs_hook_registers_plugin_jobs():
    registry = JobRegistry()
    register_extra_jobs(registry, " tests.jobs_fixture:register , ")
    assert "record_tick" in registry
    with pytest.raises(ValueError):
        register_extra_jobs(JobRegistry(), "tests.jobs_fixture")


# Ticking, in one process


def counting_registry(runs, label, seconds=1):
    registry = JobRegistry()
    registry.add("count", lambda: runs.append(label), seconds=seconds)
    return registry


def test_only_the_lease_holder_runs_jobs(app, lease_name):
    runs = []
    leader = Ticker(app, counting_registry(runs, "a"), "a", lease_name)
    standby = Ticker(app, counting_registry(runs, "b"), "b", lease_name)
    for _ in range(3):
        leader.tick()
        standby.tick()
    assert runs == ["a", "a", "a"]
    assert leader.is_leader and not standby.is_leader


def test_standby_runs_jobs_once_the_leader_releases(app, lease_name):
    runs = []
    leader = Ticker(app, counting_registry(runs, "a"), "a", lease_name)
    standby = Ticker(app, counting_registry(runs, "b"), "b", lease_name)
    leader.tick()
    leader.release()
    standby.tick()
    assert runs == ["a", "b"]


def test_a_job_runs_once_per_its_interval(app, lease_name):
    runs = []
    ticker = Ticker(app, counting_registry(runs, "hourly", seconds=3600), "a", lease_name)
    ticker.tick()
    ticker.tick()
    assert runs == ["hourly"]


def test_a_failing_job_does_not_stop_the_others(app, lease_name):
    runs = []
    registry = JobRegistry()
    registry.add("broken", lambda: 1 / 0, seconds=1)
    registry.add("fine", lambda: runs.append("fine"), seconds=1)
    Ticker(app, registry, "a", lease_name).tick()
    assert runs == ["fine"]


def test_a_job_claims_its_slot_as_the_scheduler_running_it(app, db_session, lease_name):
    job = f"digest-{uuid.uuid4().hex[:8]}"
    registry = JobRegistry()
    registry.add(job, lambda: leases.claim_slot(db.session, job, "s1") and db.session.commit(),
                 seconds=1)
    Ticker(app, registry, "holder-x", lease_name).tick()
    assert [r.holder for r in db_session.query(JobRun).filter_by(job=job)] == ["holder-x"]
    db_session.execute(delete(JobRun).where(JobRun.job == job))
    db_session.commit()


def test_a_lease_shorter_than_two_ticks_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_LEASE_SECONDS", 15)
    monkeypatch.setitem(app.config, "SCHEDULER_TICK_SECONDS", 10)
    with pytest.raises(ValueError):
        Ticker(app, JobRegistry(), "a")


# Where the embedded scheduler starts


EMBEDDED = {"SCHEDULER_MODE": "embedded"}


@pytest.fixture
def flask_cli_env(monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # what every `flask` command sets
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return monkeypatch


def in_command(command, **params):
    ctx = click.Context(command, info_name=command.name)
    ctx.params.update(params)
    return ctx


def test_flask_run_without_reloader_embeds_the_scheduler(flask_cli_env):
    with in_command(run_command, reload=False):
        assert should_embed_scheduler(EMBEDDED)


def test_reloader_parent_does_not_embed_but_its_serving_child_does(flask_cli_env):
    with in_command(run_command, reload=True):
        assert not should_embed_scheduler(EMBEDDED)
        flask_cli_env.setenv("WERKZEUG_RUN_MAIN", "true")
        assert should_embed_scheduler(EMBEDDED)


def test_debug_mode_means_the_reloader(flask_cli_env):
    flask_cli_env.setenv("FLASK_DEBUG", "1")
    with in_command(run_command, reload=None):
        assert not should_embed_scheduler(EMBEDDED)


def test_other_flask_commands_do_not_embed(flask_cli_env):
    with in_command(scheduler_command):
        assert not should_embed_scheduler(EMBEDDED)


def test_no_flask_command_means_no_scheduler(flask_cli_env):
    # gunicorn workers, scripts, the test suite
    assert not should_embed_scheduler(EMBEDDED)


def test_mode_off_never_embeds(flask_cli_env):
    flask_cli_env.setenv("WERKZEUG_RUN_MAIN", "true")
    with in_command(run_command, reload=False):
        assert not should_embed_scheduler({"SCHEDULER_MODE": "off"})


# Real processes: `flask ymcs scheduler` three times, and `flask run` with its reloader


# A lease of five ticks: a leader starved for a few seconds on a loaded machine keeps it.
TICK, LEASE = 1, 5


def clear_scheduler_lease(session):
    # A process test that failed may have left the production lease name held.
    session.execute(delete(SchedulerLease).where(SchedulerLease.name == LEASE_NAME))
    session.commit()


def lease_row(session):
    row = session.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)
                          .where(SchedulerLease.name == LEASE_NAME)).one()
    session.rollback()  # the next read sees what is committed then
    return row


def test_three_schedulers_run_each_tick_once_and_survive_their_leader(
        app, database_url, db_session, tmp_path):
    clear_scheduler_lease(db_session)
    env = scheduler_env(database_url, tmp_path, TICK, LEASE)
    tick_log = env["YMCS_TEST_TICK_LOG"]
    procs = {}
    try:
        for i in range(3):
            proc = start_flask(["ymcs", "scheduler"], env, tmp_path / f"scheduler{i}.out")
            procs[proc.pid] = proc
        runs = wait_until(lambda: len(read_tick_log(tick_log)) >= 6 and read_tick_log(tick_log))
        first = runs[0][1]

        procs[first].kill()  # kill -9: no release, the lease must run out
        procs[first].wait()
        dead_lease = lease_row(db_session)  # the dead one's last renewal, now never renewed
        runs = wait_until(lambda: len(others(read_tick_log(tick_log), first)) >= 4 and
                          read_tick_log(tick_log))
        second = others(runs, first)[0][1]

        procs[second].terminate()  # SIGTERM: a clean stop releases the lease
        assert procs[second].wait(60) == 0
        released, read_at = lease_row(db_session), utcnow()
        third = next(pid for pid in procs if pid not in (first, second))
        wait_until(lambda: len(runs_of(read_tick_log(tick_log), third)) >= 2)
        procs[third].send_signal(signal.SIGINT)
        assert procs[third].wait(60) == 0
    finally:
        kill_all(procs.values())

    runs = read_tick_log(tick_log)
    # One scheduler at a time ran the job (never two taking turns), handed over twice.
    assert pid_stretches(runs) == [first, second, third], outputs(tmp_path)
    # Each process ran it from one scheduler: once per tick, not twice.
    schedulers = schedulers_per_process(tick_log)
    assert sorted(schedulers) == sorted(procs)
    assert all(len(ids) == 1 for ids in schedulers.values()), schedulers
    (first_id,), (second_id,) = schedulers[first], schedulers[second]
    # After kill -9 the standby waited for the dead holder's lease to run out.
    assert dead_lease.holder == first_id
    dead_until = dead_lease.expires_at.replace(tzinfo=datetime.UTC).timestamp()
    assert runs_of(runs, second)[0] > dead_until
    # SIGTERM released it on the way out (expired at once, or the third already has it).
    assert released.holder != second_id or released.expires_at < read_at
    assert leases.current_holder(db_session, LEASE_NAME) is None


def others(runs, pid):
    return [run for run in runs if run[1] != pid]


def test_flask_run_embeds_one_scheduler_in_the_process_that_serves(
        app, database_url, db_session, tmp_path):
    clear_scheduler_lease(db_session)
    env = scheduler_env(database_url, tmp_path, TICK, LEASE)
    server = start_flask(["run", "--reload", "--port", "0"], env, tmp_path / "run.out")
    tick_log = env["YMCS_TEST_TICK_LOG"]
    try:
        wait_until(lambda: len(read_tick_log(tick_log)) >= 2)
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C reaches the reloader and its child
        assert server.wait(60) == 0
    finally:
        kill_all([server])
    schedulers = schedulers_per_process(tick_log)
    # the serving child alone, with one scheduler
    assert len(schedulers) == 1 and server.pid not in schedulers, outputs(tmp_path)
    assert [len(ids) for ids in schedulers.values()] == [1], schedulers
    assert leases.current_holder(db_session, LEASE_NAME) is None  # released on the way out
