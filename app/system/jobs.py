"""System Management's periodic job: the operation log's retention."""

from flask import current_app

from app.extensions import db
from app.models import utcnow
from app.system.queries import prune_operation_log


def prune_operation_log_job():
    """Rows older than OPERATION_LOG_RETENTION_DAYS leave the log, in committed batches."""
    return prune_operation_log(db.session,
                               current_app.config["OPERATION_LOG_RETENTION_DAYS"], utcnow())


def register_system_jobs(registry, config):
    registry.add("prune_operation_log", prune_operation_log_job, seconds=3600)
