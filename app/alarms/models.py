"""The alarm tables (imported by app/models.py, so Alembic sees them)."""

import enum

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from app.core.clock import utcnow
from app.core.columns import string_enum

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite's rowid alias is INTEGER


class Severity(str, enum.Enum):
    critical = "critical"
    major = "major"
    minor = "minor"


class AlarmStatus(str, enum.Enum):
    open = "open"  # repeats count on it
    acknowledged = "acknowledged"  # someone has seen it; repeats still count on it
    cleared = "cleared"  # closed: a repeat opens a new alarm


class AlarmType(Model):
    """A type of the spec's appendix; seeded by the migration, never edited on screens."""

    __tablename__ = "alarm_type"
    id = Column(Integer, primary_key=True)
    code = Column(String(48), nullable=False, unique=True)
    name_en = Column(String(96), nullable=False)
    name_zh = Column(String(96), nullable=False)
    severity = Column(string_enum(Severity), nullable=False)
    uploads_log = Column(Boolean, nullable=False, default=False)
    position = Column(Integer, nullable=False, default=0)  # the appendix's order

    def name(self, language):
        return self.name_zh if (language or "").startswith("zh") else self.name_en

    def __repr__(self):
        return self.name_en


class Alarm(Model):
    """One alarm of one device. While it is open or acknowledged, ``open_key`` is
    "<device id>:<type id>" and unique: a repeat lands on the same row (INSERT ... ON
    CONFLICT / ON DUPLICATE KEY UPDATE), never a second one. Clearing sets it NULL."""

    __tablename__ = "alarm"
    id = Column(_BIG_ID, primary_key=True)
    device_id = Column(Integer, ForeignKey("device.id", ondelete="CASCADE"), nullable=False)
    # The device's enterprise when the alarm was raised: scope reaches alarms through it.
    enterprise_id = Column(Integer, ForeignKey("enterprise.id", ondelete="CASCADE"),
                           nullable=False)
    # No foreign key: the types are seeded, never deleted, and the fast list hides the indexes
    # of foreign keys from its big pages' plans (the type filter then read 5M rows: 3 s).
    type_id = Column(Integer, nullable=False)
    severity = Column(string_enum(Severity), nullable=False)  # the type's, kept for the filter
    status = Column(string_enum(AlarmStatus), nullable=False, default=AlarmStatus.open)
    open_key = Column(String(32), nullable=True, unique=True)
    count = Column(Integer, nullable=False, default=1)
    first_at = Column(DateTime, nullable=False, default=utcnow)
    last_at = Column(DateTime, nullable=False, default=utcnow)
    description = Column(String(512), nullable=False, default="")
    # The Upload command that fetches the device's log (crash, no response, kernel panic).
    log_command_id = Column(Integer, ForeignKey("device_command.id", ondelete="SET NULL"),
                            nullable=True)
    acknowledged_on = Column(DateTime, nullable=True)
    acknowledged_by = Column(String(128), nullable=True)
    cleared_on = Column(DateTime, nullable=True)
    cleared_by = Column(String(128), nullable=True)

    device = relationship("Device")
    enterprise = relationship("Enterprise")
    type = relationship("AlarmType", primaryjoin="foreign(Alarm.type_id) == AlarmType.id")
    log_command = relationship("DeviceCommand")

    # Each list filter and sort is indexed with id (keyset pages); scope goes through
    # (enterprise_id, id); the MAC filter through (device_id, id).
    __table_args__ = (
        Index("ix_alarm_enterprise_id", "enterprise_id", "id"),
        Index("ix_alarm_device_id", "device_id", "id"),
        Index("ix_alarm_type_id", "type_id", "id"),
        Index("ix_alarm_severity_id", "severity", "id"),
        Index("ix_alarm_last_at", "last_at", "id"),
        Index("ix_alarm_first_at", "first_at", "id"),
        Index("ix_alarm_log_command", "log_command_id"),
        # The home page's open alarms by severity, within a scope: index only.
        Index("ix_alarm_status", "status", "enterprise_id", "severity"),
        # (The charts read AlarmDaily, not this table.)
    )


class AlarmDaily(Model):
    """Alarms first raised per day (UTC), enterprise, type and severity: the charts' roll-up.
    One more for each new alarm row, in the statement's transaction (rules.raise_alarm); a
    repeat counted on an open alarm adds nothing, as the chart counts alarms, not repeats."""

    __tablename__ = "alarm_daily"
    # Keyed by enterprise first: a scope's rows are one range per enterprise of it.
    enterprise_id = Column(Integer, ForeignKey("enterprise.id", ondelete="CASCADE"),
                           primary_key=True)
    day = Column(Date, primary_key=True)
    type_id = Column(Integer, primary_key=True, autoincrement=False)
    severity = Column(string_enum(Severity), nullable=False)  # the type's
    count = Column(Integer, nullable=False, default=0)
    # The platform's chart (every enterprise): read in (day, type) order from this index
    # alone, summed as it goes (InnoDB adds the key's enterprise_id to it).
    __table_args__ = (Index("ix_alarm_daily_day", "day", "type_id", "count"),)


class AlarmSetting(Model):
    """An enterprise's alarm strategy. No row: enabled, every severity and type, no mail."""

    __tablename__ = "alarm_setting"
    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id", ondelete="CASCADE"),
                           nullable=False, unique=True)
    enabled = Column(Boolean, nullable=False, default=True)
    severities = Column(String(64), nullable=False, default="critical,major,minor")
    type_codes = Column(Text, nullable=True)  # comma-separated codes; NULL: every type
    email_enabled = Column(Boolean, nullable=False, default=False)
    updated_on = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(128), nullable=True)


class AlarmReceiver(Model):
    """An account that receives an enterprise's alarm mail."""

    __tablename__ = "alarm_receiver"
    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id", ondelete="CASCADE"),
                           nullable=False)
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    __table_args__ = (
        Index("uq_alarm_receiver", "enterprise_id", "account_id", unique=True),
        Index("ix_alarm_receiver_account", "account_id"),
    )


class AlarmDigest(Model):
    """The ledger of digests: one row per receiver and period, inserted in the transaction
    that queues the mail, so three schedulers send it once."""

    __tablename__ = "alarm_digest"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    period_start = Column(DateTime, nullable=False)
    alarms = Column(Integer, nullable=False, default=0)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (
        Index("uq_alarm_digest_account_period", "account_id", "period_start", unique=True),
    )


class AlarmBellSeen(Model):
    """The newest alarm id an account had when it last opened the bell."""

    __tablename__ = "alarm_bell_seen"
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"),
                        primary_key=True)
    seen_id = Column(BigInteger, nullable=False, default=0)
    opened_on = Column(DateTime, nullable=False, default=utcnow)
