"""The relational core. Tenant data is reached through app/core/scope.py, never directly by
views."""

import enum
import re

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import relationship, validates

from app.core.clock import utcnow  # noqa: F401  (callers import it from here)
from app.core.columns import string_enum


class Status(str, enum.Enum):
    active = "active"
    frozen = "frozen"


class PermissionType(str, enum.Enum):
    device_management = "device_management"
    rps = "rps"


class Authorization(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class AccountKind(str, enum.Enum):
    platform = "platform"  # the vendor's operators
    channel_master = "channel_master"
    channel_sub = "channel_sub"
    enterprise = "enterprise"



class Channel(Model):
    __tablename__ = "channel"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False)
    parent_id = Column(Integer, ForeignKey("channel.id"), nullable=True, index=True)
    can_add_subchannel = Column(Boolean, nullable=False, default=False)
    status = Column(string_enum(Status), nullable=False, default=Status.active)
    contact = Column(String(128), nullable=True)
    email = Column(String(320), nullable=True)
    phone = Column(String(32), nullable=True)
    address = Column(String(255), nullable=True)
    country = Column(String(2), nullable=True)
    created_on = Column(DateTime, nullable=False, default=utcnow)

    parent = relationship("Channel", remote_side=[id], backref="children")

    def __repr__(self):
        return self.name


class ChannelClosure(Model):
    """One row per (ancestor, descendant) pair, depth 0 for the channel itself.

    Written by the Channel after_insert hook in the same transaction as the channel, so
    "my subtree" is one indexed join on SQLite and MariaDB alike.
    """

    __tablename__ = "channel_closure"
    ancestor_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    descendant_id = Column(
        Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True
    )
    depth = Column(Integer, nullable=False)
    __table_args__ = (Index("ix_channel_closure_descendant", "descendant_id", "ancestor_id"),)


@event.listens_for(Channel, "after_insert")
def _insert_closure_rows(mapper, connection, channel):
    table = ChannelClosure.__table__
    connection.execute(
        insert(table).values(ancestor_id=channel.id, descendant_id=channel.id, depth=0)
    )
    if channel.parent_id is not None:
        connection.execute(
            insert(table).from_select(
                ["ancestor_id", "descendant_id", "depth"],
                select(
                    table.c.ancestor_id, literal(channel.id), table.c.depth + 1
                ).where(table.c.descendant_id == channel.parent_id),
            )
        )


@event.listens_for(Channel, "before_update")
def _refuse_reparenting(mapper, connection, channel):
    from sqlalchemy import inspect

    history = inspect(channel).attrs.parent_id.history
    if history.has_changes() and history.deleted and history.deleted[0] is not None:
        # Moving a subtree would have to rewrite its closure rows; nothing needs it yet.
        raise ValueError("A channel cannot be moved to another parent.")


class Enterprise(Model):
    __tablename__ = "enterprise"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False, index=True)  # searched by prefix
    channel_id = Column(Integer, ForeignKey("channel.id"), nullable=False, index=True)
    permission_type = Column(
        string_enum(PermissionType), nullable=False, default=PermissionType.device_management
    )
    has_master_admin = Column(Boolean, nullable=False, default=True)
    email = Column(String(320), nullable=True, unique=True)
    country = Column(String(2), nullable=True)
    contact = Column(String(128), nullable=True)
    phone = Column(String(32), nullable=True)
    address = Column(String(255), nullable=True)
    status = Column(string_enum(Status), nullable=False, default=Status.active)
    # A new enterprise authorizes its channel by default; its admin may reject it later.
    authorization = Column(string_enum(Authorization), nullable=False,
                           default=Authorization.accepted)
    # When the enterprise admin answered the first-login prompt about it; None: not yet.
    authorization_answered_on = Column(DateTime, nullable=True)
    is_channel_own = Column(Boolean, nullable=False, default=False)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    # The password its phones give the ACS (user name ``acs_username``); kept readable because
    # the enterprise and its channel are shown it, and HTTP digest needs it. Made on first use.
    acs_password = Column(String(64), nullable=True)

    channel = relationship("Channel", backref="enterprises")

    @property
    def acs_username(self):
        return f"ent{self.id}"

    def __repr__(self):
        return self.name


class Account(User):
    """FAB's user, extended with the tenant it belongs to (same table, ab_user)."""

    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}

    kind = Column(string_enum(AccountKind), nullable=False, default=AccountKind.platform)
    channel_id = Column(Integer, ForeignKey("channel.id"), nullable=True, index=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=True, index=True)
    phone = Column(String(32), nullable=True)
    language = Column(String(8), nullable=False, default="en")
    must_change_password = Column(Boolean, nullable=False, default=False)
    locked_until = Column(DateTime, nullable=True)

    channel = relationship("Channel", foreign_keys=[channel_id])
    enterprise = relationship("Enterprise", foreign_keys=[enterprise_id])


class AccountGrant(Model):
    """A sub-account's data permission: one channel (and its subtree) or one enterprise."""

    __tablename__ = "account_grant"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), nullable=True)
    enterprise_id = Column(
        Integer, ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=True
    )
    __table_args__ = (
        CheckConstraint(
            "(channel_id IS NULL) <> (enterprise_id IS NULL)", name="ck_account_grant_one_target"
        ),
        Index("ix_account_grant_account", "account_id"),
    )


_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_MAC_RE = re.compile(r"^[0-9a-f]{12}$")


class InvalidMac(ValueError):
    pass


def normalize_mac(value):
    """'00:15:65:AA-bb.cc' -> '001565aabbcc'; anything else raises InvalidMac."""
    mac = _MAC_SEPARATORS.sub("", str(value or "")).lower()
    if not _MAC_RE.match(mac):
        raise InvalidMac(f"Not a MAC address: {value!r}")
    return mac


class Device(Model):
    __tablename__ = "device"
    id = Column(Integer, primary_key=True)
    mac = Column(String(12), nullable=True, unique=True)  # NULL: not reported yet
    # "OUI-ProductClass-SerialNumber" of its Inform's DeviceId: who it is when it has no MAC.
    cpe_key = Column(String(160), nullable=True, unique=True)
    model = Column(String(64), nullable=False, default="")
    firmware = Column(String(64), nullable=False, default="")
    ip = Column(String(45), nullable=False, default="")
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=True)
    online = Column(Boolean, nullable=False, default=False)
    last_seen = Column(DateTime, nullable=True)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    # What the device said of itself in its last Inform (TR-069 DeviceId and parameters).
    manufacturer = Column(String(64), nullable=False, default="")
    oui = Column(String(6), nullable=False, default="")
    product_class = Column(String(64), nullable=False, default="")
    serial = Column(String(64), nullable=False, default="")
    data_model = Column(String(24), nullable=False, default="")  # Device / InternetGatewayDevice
    periodic_interval = Column(Integer, nullable=False, default=900)  # seconds between Informs
    # An online device not heard of by then is marked offline (two periodic intervals);
    # NULL once offline, so the sweep's index range holds only the late ones.
    offline_after = Column(DateTime, nullable=True, index=True)
    cr_url = Column(String(512), nullable=True)  # its ConnectionRequestURL
    cr_username = Column(String(64), nullable=True)  # set on the device by the ACS
    cr_password = Column(String(64), nullable=True)
    # The device's own ACS password (user ``dev<id>``), set on it by the ACS in the one
    # credential-less first session a pre-registered MAC is allowed; NULL until then, '' once
    # it connected with the enterprise's credentials instead.
    acs_password = Column(String(64), nullable=True)
    # The address its last session came from: connection requests go there and nowhere else.
    remote_ip = Column(String(45), nullable=True)
    has_work = Column(Boolean, nullable=False, default=False)  # commands wait for its session
    parameters = Column(Text, nullable=True)  # JSON {name: value} of the values last read
    parameters_read_on = Column(DateTime, nullable=True)
    cpu_usage = Column(Integer, nullable=True)  # latest sample, percent
    memory_total = Column(BigInteger, nullable=True)  # KiB
    memory_free = Column(BigInteger, nullable=True)
    missing_parameters = Column(Text, nullable=True)  # JSON [names] it faulted 9005 on
    metrics_unanswered = Column(Integer, nullable=False, default=0, server_default="0")

    enterprise = relationship("Enterprise", backref="devices")

    # (enterprise_id, id) serves the scoped list ordered by id; (model, id) its model sort.
    __table_args__ = (
        Index("ix_device_enterprise_id", "enterprise_id", "id"),
        Index("ix_device_model_id", "model", "id"),
    )

    @validates("mac")
    def _normalize_mac(self, key, value):
        return None if value is None else normalize_mac(value)

    def __repr__(self):
        return self.mac or self.cpe_key or f"device {self.id}"


class OperationLog(Model):
    __tablename__ = "operation_log"
    id = Column(Integer, primary_key=True)
    created_on = Column(DateTime, nullable=False, default=utcnow, index=True)
    user_id = Column(Integer, nullable=True)  # the account the action was done as
    username = Column(String(128), nullable=False, default="")
    actor_username = Column(String(128), nullable=True)  # the real person when acting as another
    channel_id = Column(Integer, nullable=True)  # the tenant of user_id, for scoping
    enterprise_id = Column(Integer, nullable=True)
    operation = Column(String(128), nullable=False, default="")
    path = Column(String(512), nullable=False, default="")
    method = Column(String(8), nullable=False, default="")
    ip = Column(String(45), nullable=False, default="")
    result = Column(String(16), nullable=False, default="success")
    status_code = Column(Integer, nullable=False, default=200)

    # Scope: the tenant columns; each list filter, newest (highest id) first: (column, id),
    # and within a tenant (tenant, column, id) (app/system/oplog_page.py).
    __table_args__ = (
        Index("ix_operation_log_channel", "channel_id", "id"),
        Index("ix_operation_log_enterprise", "enterprise_id", "id"),
        Index("ix_operation_log_operation", "operation", "id"),
        Index("ix_operation_log_username", "username", "id"),
        Index("ix_operation_log_result", "result", "id"),
        Index("ix_operation_log_path", "path", "id"),
        *[Index(f"ix_operation_log_{t[:-3]}_{c}", t, c, "id") for t in ("channel_id",
          "enterprise_id") for c in ("operation", "result", "username", "path")],
    )


class SchedulerLease(Model):
    """The row that elects the one scheduler process allowed to run jobs."""

    __tablename__ = "scheduler_lease"
    name = Column(String(64), primary_key=True)
    holder = Column(String(128), nullable=False)
    expires_at = Column(DateTime, nullable=False)


class JobRun(Model):
    """Ledger of job ticks; unique per (job, slot) so a tick's side effect happens once."""

    __tablename__ = "job_run"
    id = Column(Integer, primary_key=True)
    job = Column(String(64), nullable=False)
    slot = Column(String(32), nullable=False)
    holder = Column(String(128), nullable=False)
    ran_at = Column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (Index("uq_job_run_job_slot", "job", "slot", unique=True),)


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after MAIL_MAX_ATTEMPTS


class OutboxMessage(Model):
    """One mail, written in the transaction that caused it and sent later by the outbox job.

    Only app/core/mail.py changes status, attempts and next_attempt_at (see its transitions).
    """

    __tablename__ = "outbox_message"
    id = Column(Integer, primary_key=True)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    recipient = Column(String(320), nullable=False)
    subject = Column(String(255), nullable=False)
    body_text = Column(Text, nullable=False)
    body_html = Column(Text, nullable=True)
    status = Column(string_enum(OutboxStatus), nullable=False, default=OutboxStatus.pending)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    last_error = Column(String(500), nullable=True)
    sent_at = Column(DateTime, nullable=True)
    enterprise_id = Column(Integer, nullable=True)  # whose account mail it is (no FK: outlives)
    enterprise = relationship("Enterprise", primaryjoin="foreign(OutboxMessage.enterprise_id)"
                              " == Enterprise.id")

    attachments = relationship("OutboxAttachment", cascade="all, delete-orphan",
                               passive_deletes=True)

    # The sweep: due pending rows, oldest first; an address's latest mail; an enterprise's
    # latest account mail (enterprise list); the oldest mails (retention).
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),
                      Index("ix_outbox_message_created", "created_on"),
                      Index("ix_outbox_message_recipient", "recipient", "id"),
                      Index("ix_outbox_message_enterprise", "enterprise_id", "id"))


class PasswordResetToken(Model):
    """A single-use "forgot password" link; only the SHA-256 digest of its secret is kept."""

    __tablename__ = "password_reset_token"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    token_digest = Column(String(64), nullable=False, unique=True)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_on = Column(DateTime, nullable=True)


class CaptchaUse(Model):
    """A captcha challenge already answered (right or wrong): each one is good for one try."""

    __tablename__ = "captcha_use"
    nonce = Column(String(32), primary_key=True)
    used_on = Column(DateTime, nullable=False, default=utcnow, index=True)


class RpsDevice(Model):
    """A device of an RPS enterprise: the redirect service sends it to ``server_url``.

    Only RPS enterprises hold RPS devices (app/tenancy/rps.py checks it); a channel sees them
    without the enterprise's authorization (app/core/scope.py).
    """

    __tablename__ = "rps_device"
    id = Column(Integer, primary_key=True)
    mac = Column(String(12), nullable=False, unique=True)
    server_url = Column(String(512), nullable=False)
    unique_url = Column(String(512), nullable=True)  # the device's own provisioning URL
    ip = Column(String(45), nullable=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=False)
    created_on = Column(DateTime, nullable=False, default=utcnow)

    enterprise = relationship("Enterprise")

    # (enterprise_id, id) serves the scoped list ordered by id and backs the foreign key.
    __table_args__ = (Index("ix_rps_device_enterprise_id", "enterprise_id", "id"),)

    @validates("mac")
    def _normalize_mac(self, key, value):
        return normalize_mac(value)

    def __repr__(self):
        return self.mac


class Package(Model):
    """A service package the platform administrator sells through channels."""

    __tablename__ = "package"
    id = Column(Integer, primary_key=True)
    name = Column(String(128), nullable=False, unique=True)
    max_devices = Column(Integer, nullable=False)  # per unit ordered
    duration_months = Column(Integer, nullable=False)  # the term an order starts from
    active = Column(Boolean, nullable=False, default=True)  # offered for new orders
    created_on = Column(DateTime, nullable=False, default=utcnow)
    __table_args__ = (
        CheckConstraint("max_devices > 0", name="ck_package_max_devices"),
        CheckConstraint("duration_months > 0", name="ck_package_duration"),
    )

    def __repr__(self):
        return self.name


class OrderLimit(Model):
    """The administrator's cap on a channel's open paid orders (not cancelled, not expired)."""

    __tablename__ = "order_limit"
    id = Column(Integer, primary_key=True)
    channel_id = Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), nullable=False,
                        unique=True)
    max_open_orders = Column(Integer, nullable=False)
    channel = relationship("Channel")
    __table_args__ = (CheckConstraint("max_open_orders >= 0", name="ck_order_limit_max"),)


class OrderStatus(str, enum.Enum):
    pending = "pending"  # not yet effective
    effective = "effective"
    expired = "expired"
    cancelled = "cancelled"


class Order(Model):
    """A service order of an enterprise, placed by a channel (the distributor).

    It is effective on [effective_on, expires_on); the order sweep (app/orders/rules.py) moves
    ``status`` along as the dates come. ``max_devices`` is fixed when the order is placed.
    """

    __tablename__ = "service_order"
    id = Column(Integer, primary_key=True)
    enterprise_id = Column(Integer, ForeignKey("enterprise.id"), nullable=False)
    channel_id = Column(Integer, ForeignKey("channel.id"), nullable=False)  # distributor
    reseller = Column(String(128), nullable=False)
    order_type = Column(String(16), nullable=False, default="paid")
    package_id = Column(Integer, ForeignKey("package.id"), nullable=False)
    package_name = Column(String(128), nullable=False)  # as sold, whatever the package becomes
    quantity = Column(Integer, nullable=False)
    max_devices = Column(Integer, nullable=False)
    duration_months = Column(Integer, nullable=False)
    effective_on = Column(Date, nullable=False)
    expires_on = Column(Date, nullable=False)  # first day no longer covered
    status = Column(string_enum(OrderStatus), nullable=False, default=OrderStatus.pending)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True)
    # The form's one-time key: a double-clicked OK places one order, not two.
    request_key = Column(String(32), nullable=True, unique=True)

    enterprise = relationship("Enterprise")
    channel = relationship("Channel")
    package = relationship("Package")

    # Each sortable list column is indexed with id (keyset pages); scope reaches orders through
    # (enterprise_id, id), a small scope's search its rows' resellers through the 2nd; sweep: 3rd.
    __table_args__ = (
        Index("ix_service_order_enterprise_id", "enterprise_id", "id"),
        Index("ix_service_order_enterprise_reseller", "enterprise_id", "reseller", "id"),
        Index("ix_service_order_channel_id", "channel_id", "id"),
        Index("ix_service_order_package_id", "package_id"),
        Index("ix_service_order_created_on", "created_on", "id"),
        Index("ix_service_order_duration", "duration_months", "id"),
        Index("ix_service_order_expires_on", "expires_on", "id"),
        Index("ix_service_order_reseller", "reseller", "id"),
        Index("ix_service_order_status_effective", "status", "effective_on"),
        # A status filter on the order list (by id) and on statements (by order time).
        Index("ix_service_order_status_id", "status", "id"),
        Index("ix_service_order_status_created", "status", "created_on", "id"),
        Index("ix_service_order_status_expires", "status", "expires_on"),
        CheckConstraint("quantity > 0", name="ck_service_order_quantity"),
        CheckConstraint("max_devices > 0", name="ck_service_order_max_devices"),
        CheckConstraint("expires_on > effective_on", name="ck_service_order_period"),
    )


class OrderEvent(Model):
    """An order's history: placed, activated, expired, cancelled (one row per transition)."""

    __tablename__ = "service_order_event"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("service_order.id", ondelete="CASCADE"),
                      nullable=False)
    event = Column(String(16), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)
    by = Column(String(128), nullable=True)  # an account's login, or the scheduler's id
    __table_args__ = (Index("ix_service_order_event_order", "order_id", "id"),)


class ExportStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ExportJob(Model):
    """An Excel export an account asked for: run in the background, downloaded by its owner.

    The scope it exports is the requester's principal, kept in the row (the job runs outside
    any request); ``criteria`` is the list's filters as JSON.
    """

    __tablename__ = "export_job"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(32), nullable=False)  # "orders" | "statements"
    criteria = Column(Text, nullable=False)
    principal_kind = Column(String(32), nullable=False)
    principal_channel_id = Column(Integer, nullable=True)
    principal_enterprise_id = Column(Integer, nullable=True)
    language = Column(String(8), nullable=False, default="en")
    status = Column(string_enum(ExportStatus), nullable=False, default=ExportStatus.queued)
    rows_total = Column(BigInteger, nullable=True)  # an estimate, for the progress bar
    rows_done = Column(BigInteger, nullable=False, default=0)
    file_name = Column(String(255), nullable=True)  # in the file store, once done
    error = Column(String(500), nullable=True)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    heartbeat_at = Column(DateTime, nullable=True)  # a running export touches it
    finished_on = Column(DateTime, nullable=True)
    __table_args__ = (
        Index("ix_export_job_account", "account_id", "id"),
        Index("ix_export_job_status", "status", "id"),
    )


class DeviceSample(Model):
    """CPU and memory of a device at one Inform, for its chart."""

    __tablename__ = "device_sample"
    id = Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id = Column(Integer, ForeignKey("device.id", ondelete="CASCADE"), nullable=False)
    taken_on = Column(DateTime, nullable=False, default=utcnow)
    cpu_usage = Column(Integer, nullable=True)
    memory_total = Column(BigInteger, nullable=True)
    memory_free = Column(BigInteger, nullable=True)
    __table_args__ = (
        Index("ix_device_sample_device", "device_id", "taken_on"),
        Index("ix_device_sample_taken_on", "taken_on"),  # retention prunes by age
    )


class CommandStatus(str, enum.Enum):
    queued = "queued"  # waits for the device's next session
    sent = "sent"  # the RPC went out in a session; its response has not come yet
    waiting = "waiting"  # accepted; waits for TransferComplete / diagnostics / the reboot
    done = "done"
    failed = "failed"


class DeviceCommand(Model):
    """One entry of the device command queue; app/device_ops/commands.py turns it into RPCs."""

    __tablename__ = "device_command"
    id = Column(Integer, primary_key=True)
    device_id = Column(Integer, ForeignKey("device.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(24), nullable=False)  # see commands.KINDS
    arguments = Column(Text, nullable=False, default="{}")  # JSON
    status = Column(string_enum(CommandStatus), nullable=False, default=CommandStatus.queued)
    created_on = Column(DateTime, nullable=False, default=utcnow)
    created_by = Column(String(128), nullable=True)  # an account's login; None: the ACS itself
    updated_on = Column(DateTime, nullable=False, default=utcnow)  # last change, for timeouts
    finished_on = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    fault_code = Column(Integer, nullable=True)
    fault_string = Column(String(512), nullable=True)
    result = Column(Text, nullable=True)  # JSON
    # Upload: SHA-256 of the one-time URL's token (the token itself is never stored).
    upload_token = Column(String(64), nullable=True, unique=True)
    file_name = Column(String(255), nullable=True)  # the uploaded file, in the file store
    file_size = Column(BigInteger, nullable=True)

    device = relationship("Device")
    __table_args__ = (
        Index("ix_device_command_device", "device_id", "status", "id"),
        Index("ix_device_command_status", "status", "updated_on"),
    )


# Tables kept in their domain's package; imported here so Alembic sees every table.
from app.accounts.models import LoginThrottle, ServerSession  # noqa: E402,F401
from app.alarms.models import (  # noqa: E402,F401
    Alarm,
    AlarmBellSeen,
    AlarmDaily,
    AlarmDigest,
    AlarmReceiver,
    AlarmSetting,
    AlarmStatus,
    AlarmType,
    Severity,
)
from app.configs.tables import (  # noqa: E402,F401
    ConfigChannelZone,
    ConfigPush,
    ConfigPushDevice,
    ConfigTemplate,
)
from app.core.outbox_models import OutboxAttachment  # noqa: E402,F401
from app.device_ops.diagnostics_models import (  # noqa: E402,F401,E501
    DeviceDiagnostics,
    DiagnosisRequest,
)
