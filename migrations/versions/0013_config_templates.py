"""Configuration templates, pushes (executed tasks) and their device rows, channels' time zones

Revision ID: 0013_config_templates
Revises: 0012_system_management
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import MEDIUMTEXT

revision = "0013_config_templates"
down_revision = "0012_system_management"
branch_labels = None
depends_on = None

_STATUS = dict(length=32)


def upgrade():
    op.create_table(
        "config_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("model_filter", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb"),
                  nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("updated_on", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint("(channel_id IS NULL) <> (enterprise_id IS NULL)",
                           name="ck_config_template_one_target"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_config_template_channel", "config_template", ["channel_id", "id"])
    op.create_index("ix_config_template_enterprise", "config_template", ["enterprise_id", "id"])
    op.create_table(
        "config_channel_zone",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    op.create_table(
        "config_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("template_name", sa.String(length=128), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("target_name", sa.String(length=128), nullable=False),
        sa.Column("retry_of", sa.Integer(), nullable=True),
        sa.Column("status", sa.Enum("scheduled", "cancelled", "pushed", "refused",
                                    name="pushstatus", native_enum=False, **_STATUS),
                  nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("acting_as", sa.String(length=128), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("pushed_on", sa.DateTime(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("expired", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Integer(), nullable=False),
        sa.Column("open_rows", sa.Integer(), nullable=False),
        sa.Column("supersede_pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["config_template.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.ForeignKeyConstraint(["retry_of"], ["config_push.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_config_push_channel", "config_push", ["channel_id", "created_on"])
    op.create_index("ix_config_push_enterprise", "config_push", ["enterprise_id", "created_on"])
    op.create_index("ix_config_push_created", "config_push", ["created_on"])
    op.create_index("ix_config_push_due", "config_push", ["status", "scheduled_for"])
    op.create_index("ix_config_push_open", "config_push", ["open_rows", "pushed_on"])
    op.create_table(
        "config_push_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("push_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.Column("mac", sa.String(length=12), nullable=True),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Enum("pending", "success", "failed", "expired", "superseded",
                                    name="rowstatus", native_enum=False, **_STATUS),
                  nullable=False),
        sa.Column("fault_code", sa.Integer(), nullable=True),
        sa.Column("fault_string", sa.String(length=512), nullable=True),
        sa.Column("finished_on", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["push_id"], ["config_push.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_config_push_device_push", "config_push_device", ["push_id", "id"])
    op.create_index("ix_config_push_device_push_status", "config_push_device",
                    ["push_id", "status", "id"])
    op.create_index("ix_config_push_device_device", "config_push_device",
                    ["device_id", "status"])
    op.create_index("ix_config_push_device_enterprise", "config_push_device",
                    ["enterprise_id", "push_id"])


def downgrade():
    op.drop_table("config_push_device")
    op.drop_table("config_push")
    op.drop_table("config_channel_zone")
    op.drop_table("config_template")
