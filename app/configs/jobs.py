"""The configuration sweep the scheduler runs (see app/core/jobs.py for how jobs run): timer
tasks whose time has come are pushed exactly once, finished commands are carried into the
executed tasks, and what is left past CONFIG_PUSH_EXPIRY_DAYS expires."""

from flask import current_app

from app.configs.outcomes import sweep_pushes
from app.configs.pushes import run_due_pushes
from app.configs.wake import wake_in_background
from app.extensions import db


def sweep_configs_job():
    app = current_app._get_current_object()
    for push_id in run_due_pushes(db.session):
        # in the background: unreachable devices must not hold the scheduler's other jobs
        wake_in_background(app, push_id)
    sweep_pushes(db.session, app.config["CONFIG_PUSH_EXPIRY_DAYS"])


def register_config_jobs(registry, config):
    registry.add("sweep_configs", sweep_configs_job, seconds=config["CONFIG_SWEEP_SECONDS"])
