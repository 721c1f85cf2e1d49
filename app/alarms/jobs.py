"""The alarm digest job (see app/core/jobs.py for how jobs run): every ALARM_DIGEST_SWEEP_SECONDS
it queues the digests of the last whole ALARM_DIGEST_SECONDS period not yet sent; the ledger
makes a second run, or a second scheduler, a no-op."""

from flask import current_app

from app.alarms.notify import send_digests
from app.extensions import db


def send_alarm_digests_job():
    return send_digests(db.session, current_app.config["ALARM_DIGEST_SECONDS"])


def register_alarm_jobs(registry, config):
    registry.add("send_alarm_digests", send_alarm_digests_job,
                 seconds=config["ALARM_DIGEST_SWEEP_SECONDS"])
