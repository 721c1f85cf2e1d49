"""The device sweeps the scheduler runs (see app/core/jobs.py for how jobs run)."""

from flask import current_app

from app.device_ops.commands import expire_commands, expire_diagnostics, prune_commands
from app.device_ops.diagnostics_files import backup_logs_job
from app.device_ops.inventory import (
    delete_stored_files,
    mark_silent_devices_offline,
    prune_samples,
    prune_uploaded_files,
)
from app.extensions import db


def sweep_devices_job():
    """Silent devices go offline; diagnostics past DIAGNOSTICS_TIMEOUT_SECONDS and other
    commands stuck past COMMAND_TIMEOUT_SECONDS fail."""
    mark_silent_devices_offline(db.session)
    expire_diagnostics(db.session, current_app.config["DIAGNOSTICS_TIMEOUT_SECONDS"])
    expire_commands(db.session, current_app.config["COMMAND_TIMEOUT_SECONDS"])


def prune_device_data_job():
    """Old CPU/memory samples, uploaded device files and finished commands go (their
    retention settings)."""
    from app.exports.jobs import file_store_dir  # the one file store of exports and uploads

    prune_samples(db.session, current_app.config["DEVICE_SAMPLE_RETENTION_DAYS"])
    prune_uploaded_files(db.session, file_store_dir(),
                         current_app.config["UPLOAD_RETENTION_DAYS"])
    delete_stored_files(file_store_dir(), prune_commands(
        db.session, current_app.config["COMMAND_RETENTION_DAYS"]))


def register_device_jobs(registry, config):
    registry.add("sweep_devices", sweep_devices_job, seconds=config["DEVICE_SWEEP_SECONDS"])
    registry.add("prune_device_data", prune_device_data_job, seconds=3600)
    # Log data backup: hourly, but each device is asked once a day (the job skips the rest).
    registry.add("backup_device_logs", backup_logs_job, seconds=3600)
