"""The alarm jobs (see app/core/jobs.py for how jobs run): every ALARM_DIGEST_SWEEP_SECONDS
the digests of the last whole ALARM_DIGEST_SECONDS period not yet sent are queued (the ledger
makes a second run, or a second scheduler, a no-op); hourly, alarms past their retention go."""

from flask import current_app

from app.alarms.notify import send_digests
from app.alarms.retention import prune_alarms
from app.extensions import db


def send_alarm_digests_job():
    return send_digests(db.session, current_app.config["ALARM_DIGEST_SECONDS"])


def prune_alarms_job():
    """Finished alarms last seen more than ALARM_RETENTION_DAYS ago, and the charts' older
    days, are deleted."""
    return prune_alarms(db.session, current_app.config["ALARM_RETENTION_DAYS"])


def register_alarm_jobs(registry, config):
    registry.add("send_alarm_digests", send_alarm_digests_job,
                 seconds=config["ALARM_DIGEST_SWEEP_SECONDS"])
    registry.add("prune_alarms", prune_alarms_job, seconds=3600)
