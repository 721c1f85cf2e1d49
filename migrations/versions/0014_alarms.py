"""Alarms: types (seeded from the spec's appendix), alarms, alarm settings, receivers, the
digest ledger and the bell's last-seen mark

Revision ID: 0014_alarms
Revises: 0013_config_templates
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_alarms"
down_revision = "0013_config_templates"
branch_labels = None
depends_on = None

# (code, English, Chinese, severity) as app/alarms/types.py has them at this revision.
TYPES = [
    ("poor_call_quality", "Poor call quality", "通话质量差", "critical"),
    ("register_failure", "Register failure", "注册失败", "critical"),
    ("upgrade_firmware_failure", "Upgrade firmware failure", "固件升级失败", "critical"),
    ("update_configuration_failure", "Update configuration failure", "配置更新失败",
     "critical"),
    ("application_crash", "Application crash", "应用程序崩溃", "critical"),
    ("application_no_response", "Application no response", "应用程序无响应", "critical"),
    ("kernel_panic", "Kernel panic", "内核崩溃", "critical"),
    ("exit_program", "Exit program", "程序退出", "critical"),
    ("call_failed", "Call failed", "呼叫失败", "minor"),
    ("visual_voicemail_retrieve_failure", "Visual voicemail retrieve failure",
     "可视语音信箱获取失败", "minor"),
    ("hold_failure", "Hold failure", "保持失败", "minor"),
    ("resume_failure", "Resume failure", "恢复通话失败", "minor"),
    ("play_visual_voicemail_failed", "Play visual voicemail failed", "播放可视语音信箱失败",
     "minor"),
    ("rtp_violate", "RTP violate", "RTP 违规", "minor"),
    ("rtp_address_change", "RTP address change", "RTP 地址变更", "minor"),
    ("rtp_dead", "RTP dead", "RTP 中断", "minor"),
    ("srtp_failure", "SRTP failure", "SRTP 失败", "minor"),
    ("calllog_retrieve_failure", "Calllog retrieve failure", "通话记录获取失败", "minor"),
    ("outlook_contact_retrieve_failure", "Outlook contact retrieve failure",
     "Outlook 联系人获取失败", "minor"),
    ("bluetooth_paired_failed", "Bluetooth paired failed", "蓝牙配对失败", "minor"),
    ("calendar_synchronization_failure", "Calendar synchronization failure", "日历同步失败",
     "major"),
    ("device_reboot", "Device reboot", "设备重启", "major"),
    ("meet_now_failure", "Meet now failure", "立即会议失败", "major"),
    ("btoe_pairing_failure", "BToE pairing failure", "BToE 配对失败", "major"),
    ("exchange_discovery_failure", "Exchange discovery failure", "Exchange 发现失败", "major"),
    ("device_offline", "Device offline", "设备离线", "major"),
]
LOG_TYPES = {"application_crash", "application_no_response", "kernel_panic"}


def _big_id():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    alarm_type = op.create_table(
        "alarm_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("name_en", sa.String(length=96), nullable=False),
        sa.Column("name_zh", sa.String(length=96), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("uploads_log", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.bulk_insert(alarm_type, [
        {"id": i, "code": code, "name_en": en, "name_zh": zh, "severity": severity,
         "uploads_log": code in LOG_TYPES, "position": i}
        for i, (code, en, zh, severity) in enumerate(TYPES, start=1)])
    op.create_table(
        "alarm",
        sa.Column("id", _big_id(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("open_key", sa.String(length=32), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("log_command_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_on", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("cleared_on", sa.DateTime(), nullable=True),
        sa.Column("cleared_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["log_command_id"], ["device_command.id"],
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    for name, columns in (("ix_alarm_enterprise_id", ["enterprise_id", "id"]),
                          ("ix_alarm_device_id", ["device_id", "id"]),
                          ("ix_alarm_type_id", ["type_id", "id"]),
                          ("ix_alarm_severity_id", ["severity", "id"]),
                          ("ix_alarm_last_at", ["last_at", "id"]),
                          ("ix_alarm_first_at", ["first_at", "id"]),
                          ("ix_alarm_log_command", ["log_command_id"]),
                          ("ix_alarm_status", ["status", "enterprise_id", "severity"]),
                          ("ix_alarm_chart", ["first_at", "enterprise_id", "severity",
                                              "type_id"])):
        op.create_index(name, "alarm", columns)
    op.create_table(
        "alarm_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("severities", sa.String(length=64), nullable=False),
        sa.Column("type_codes", sa.Text(), nullable=True),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_on", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id"),
    )
    op.create_table(
        "alarm_receiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_alarm_receiver", "alarm_receiver", ["enterprise_id", "account_id"],
                    unique=True)
    op.create_index("ix_alarm_receiver_account", "alarm_receiver", ["account_id"])
    op.create_table(
        "alarm_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("alarms", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_alarm_digest_account_period", "alarm_digest",
                    ["account_id", "period_start"], unique=True)
    op.create_table(
        "alarm_bell_seen",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seen_id", sa.BigInteger(), nullable=False),
        sa.Column("opened_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade():
    op.drop_table("alarm_bell_seen")
    op.drop_table("alarm_digest")
    op.drop_table("alarm_receiver")
    op.drop_table("alarm_setting")
    op.drop_table("alarm")
    op.drop_table("alarm_type")
