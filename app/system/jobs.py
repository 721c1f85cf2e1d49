"""System Management's periodic jobs: the retention of the operation log and of the mail
outbox's finished mails."""

from flask import current_app

from app.extensions import db
from app.models import utcnow
from app.system.queries import prune_operation_log, prune_outbox


def prune_operation_log_job():
    """Rows older than OPERATION_LOG_RETENTION_DAYS leave the log, in committed batches."""
    return prune_operation_log(db.session,
                               current_app.config["OPERATION_LOG_RETENTION_DAYS"], utcnow())


def prune_outbox_job():
    """Sent and failed mails queued more than MAIL_RETENTION_DAYS ago leave the outbox."""
    return prune_outbox(db.session, current_app.config["MAIL_RETENTION_DAYS"], utcnow())


def register_system_jobs(registry, config):
    registry.add("prune_operation_log", prune_operation_log_job, seconds=3600)
    registry.add("prune_outbox", prune_outbox_job, seconds=3600)
