"""The diagnostic page's own tables (app/models.py imports them, so Alembic sees them).

Everything else the page shows is the device's command queue (DeviceCommand) and its files.
"""

import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class DeviceDiagnostics(Model):
    """Per device: the platform-side switches of the diagnostic page. ``log_backup``: the daily
    job asks the device for its log and keeps the last 7 days (spec ch. 6 "Enabling the Log
    Data Backup"); indexed, the job reads only those that are on."""

    __tablename__ = "device_diagnostics"
    device_id = Column(Integer, ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    log_backup = Column(Boolean, nullable=False, default=False, index=True)
    updated_on = Column(DateTime, nullable=False, default=_now)
    updated_by = Column(String(128), nullable=True)


class DiagnosisRequest(Model):
    """A "Diagnosis assistance" mail: what was written, by whom, and its outbox row (whose
    status tells the sender that it went)."""

    __tablename__ = "diagnosis_request"
    id = Column(Integer, primary_key=True)
    device_id = Column(Integer, ForeignKey("device.id", ondelete="CASCADE"), nullable=False,
                       index=True)
    outbox_id = Column(Integer, ForeignKey("outbox_message.id", ondelete="SET NULL"),
                       nullable=True)
    recipient = Column(String(320), nullable=False)
    description = Column(Text, nullable=False)
    created_on = Column(DateTime, nullable=False, default=_now)
    created_by = Column(String(128), nullable=True)
