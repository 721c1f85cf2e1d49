"""The tables of configuration templates and pushes. app/models.py imports them, so the whole
schema is visible from one place; this module imports nothing of app/ (no import circle)."""

import enum

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.orm import relationship

from app.core.clock import utcnow
from app.core.columns import string_enum

# TEXT holds 64 KB on MariaDB; a template may be 256 KB.
LONG_TEXT = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")


class ConfigTemplate(Model):
    """Parameters in Yealink's text format for a channel (its whole managed subtree) or for one
    enterprise; ``model_filter`` (comma-separated model names) limits it to those models."""

    __tablename__ = "config_template"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    channel_id = Column(Integer, ForeignKey("channel.id"), nullable=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=True)
    model_filter = Column(String(255), nullable=False, default="")
    body = Column(LONG_TEXT, nullable=False)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(128), nullable=True)
    updated_on = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(128), nullable=True)

    channel = relationship("Channel")
    enterprise = relationship("Enterprise")
    __table_args__ = (
        CheckConstraint("(channel_id IS NULL) <> (enterprise_id IS NULL)",
                        name="ck_config_template_one_target"),
        Index("ix_config_template_channel", "channel_id", "id"),
        Index("ix_config_template_enterprise", "enterprise_id", "id"),
    )


class ConfigChannelZone(Model):
    """The time zone a channel's people enter timer tasks in (its sub-channels inherit it)."""

    __tablename__ = "config_channel_zone"
    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"),
                        primary_key=True)
    time_zone = Column(String(64), nullable=False)


class PushStatus(str, enum.Enum):
    scheduled = "scheduled"  # a timer task waiting for its time
    cancelled = "cancelled"  # a timer task cancelled before it ran
    pushed = "pushed"  # its device rows exist
    refused = "refused"  # a timer task whose target could no longer be pushed to


class ConfigPush(Model):
    """An executed task: one push of a template (or a retry of another push's failures).

    ``channel_id`` is the channel whose subtree the push went into (the enterprise's channel
    for an enterprise template): the scope of the Executed Task list. Names are snapshots, so a
    deleted template's tasks stay readable. Counters are kept by app/configs/outcomes.py."""

    __tablename__ = "config_push"
    id = Column(Integer, primary_key=True)
    template_id = Column(Integer, ForeignKey("config_template.id", ondelete="SET NULL"),
                         nullable=True)
    template_name = Column(String(128), nullable=False)
    channel_id = Column(Integer, ForeignKey("channel.id"), nullable=False)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=True)
    target_name = Column(String(128), nullable=False)
    retry_of = Column(Integer, ForeignKey("config_push.id", ondelete="SET NULL"),
                      nullable=True)
    status = Column(string_enum(PushStatus), nullable=False, default=PushStatus.pushed)
    note = Column(String(255), nullable=True)  # why a timer task was refused
    created_on = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(128), nullable=True)  # the person
    acting_as = Column(String(128), nullable=True)  # the tenant they were working in
    scheduled_for = Column(DateTime, nullable=True)  # UTC; a timer task's moment
    time_zone = Column(String(64), nullable=True)  # the zone the moment was given in
    pushed_on = Column(DateTime, nullable=True)
    devices = Column(Integer, nullable=False, default=0)
    succeeded = Column(Integer, nullable=False, default=0)
    failed = Column(Integer, nullable=False, default=0)
    expired = Column(Integer, nullable=False, default=0)
    superseded = Column(Integer, nullable=False, default=0)
    open_rows = Column(Integer, nullable=False, default=0)  # rows still pending
    # A big push leaves marking older rows "superseded" to the sweep (outcomes.supersede).
    supersede_pending = Column(Boolean, nullable=False, default=False)
    __table_args__ = (
        Index("ix_config_push_channel", "channel_id", "created_on"),
        Index("ix_config_push_enterprise", "enterprise_id", "created_on"),
        Index("ix_config_push_created", "created_on"),
        Index("ix_config_push_due", "status", "scheduled_for"),
        Index("ix_config_push_open", "open_rows", "pushed_on"),
    )


class RowStatus(str, enum.Enum):
    pending = "pending"
    success = "success"
    failed = "failed"
    expired = "expired"
    superseded = "superseded"


class ConfigPushDevice(Model):
    """One target device of a push, linked to the Download command that carries it. No foreign
    key to the device or the command: a removed device's row keeps its history (MAC, model)."""

    __tablename__ = "config_push_device"
    id = Column(Integer, primary_key=True)
    push_id = Column(Integer, ForeignKey("config_push.id", ondelete="CASCADE"), nullable=False)
    device_id = Column(Integer, nullable=False)
    enterprise_id = Column(Integer, nullable=False)
    command_id = Column(Integer, nullable=True)
    mac = Column(String(12), nullable=True)
    model = Column(String(64), nullable=False, default="")
    status = Column(string_enum(RowStatus), nullable=False, default=RowStatus.pending)
    fault_code = Column(Integer, nullable=True)
    fault_string = Column(String(512), nullable=True)
    finished_on = Column(DateTime, nullable=True)
    __table_args__ = (
        # a task's rows in order (its pages), and one status of them (the status filter)
        Index("ix_config_push_device_push", "push_id", "id"),
        Index("ix_config_push_device_push_status", "push_id", "status", "id"),
        Index("ix_config_push_device_device", "device_id", "status"),
        Index("ix_config_push_device_enterprise", "enterprise_id", "push_id"),
    )
