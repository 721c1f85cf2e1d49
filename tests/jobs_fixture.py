"""Helpers for tests that run real scheduler processes.

The processes load a test job with YMCS_EXTRA_JOBS=tests.jobs_fixture:register. It appends one
line per execution to the file named by YMCS_TEST_TICK_LOG: when, the process and the scheduler
(the lease holder id) that ran it. Every run is kept, duplicates included, which the unique
JobRun ledger would hide.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import g

ROOT = Path(__file__).resolve().parent.parent


def register(registry):
    registry.add("record_tick", record_tick, seconds=1)  # i.e. on every tick


def record_tick():
    line = f"{time.time():.6f} {os.getpid()} {g.scheduler_holder}\n"
    # One short write to a file opened for appending lands whole, whoever else appends.
    with open(os.environ["YMCS_TEST_TICK_LOG"], "a") as log:
        log.write(line)


def read_tick_log(path):
    """[(time, pid)] of every run of record_tick, in time order."""
    return [(when, pid) for when, pid, _holder in read_tick_log_holders(path)]


def read_tick_log_holders(path):
    """[(time, pid, scheduler)] of every run of record_tick, in time order."""
    if not os.path.exists(path):
        return []
    with open(path) as log:
        rows = [line.split() for line in log if line.strip()]
    return sorted((float(when), int(pid), holder) for when, pid, holder in rows)


def schedulers_per_process(path):
    """{pid: {scheduler ids that ran the job in it}}: one each, or a process ticks twice."""
    found = {}
    for _when, pid, holder in read_tick_log_holders(path):
        found.setdefault(pid, set()).add(holder)
    return found


def scheduler_env(database_url, tmp_path, tick, lease):
    env = {key: value for key, value in os.environ.items()
           if key not in ("FLASK_DEBUG", "FLASK_RUN_FROM_CLI", "WERKZEUG_RUN_MAIN")}
    env.update(
        DATABASE_URL=database_url,
        SCHEDULER_MODE="embedded",  # the default: `flask ymcs scheduler` must not embed another
        SCHEDULER_TICK_SECONDS=str(tick),
        SCHEDULER_LEASE_SECONDS=str(lease),
        YMCS_EXTRA_JOBS="tests.jobs_fixture:register",
        YMCS_TEST_TICK_LOG=str(tmp_path / "ticks.log"),
        YMCS_INSTANCE_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_hex(32),  # create_app refuses a short one
        PYTHONPATH=str(ROOT),
    )
    return env


def start_flask(args, env, output_path):
    """`flask --app app:create_app <args>` in its own process group, output to a file."""
    with open(output_path, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app:create_app", *args],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell that started pytest in the background leaves SIGINT ignored; Ctrl-C
            # must reach the process as it would in a terminal.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def kill_all(processes):
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def runs_of(runs, pid):
    return [when for when, who in runs if who == pid]


def pid_stretches(runs):
    """The pids in the order they ran the job, one entry per unbroken stretch."""
    stretches = []
    for _when, pid in runs:
        if not stretches or stretches[-1] != pid:
            stretches.append(pid)
    return stretches


def outputs(tmp_path):
    """The processes' output, for assertion messages."""
    return "\n".join(f"--- {path.name}\n{path.read_text()[-2000:]}"
                     for path in sorted(tmp_path.glob("*.out")))
