"""The device diagnostic page (issue 16): per-device log data backup switch, and the
diagnosis assistance mails sent

Revision ID: 0015_diagnostics
Revises: 0014_alarms
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_diagnostics"
down_revision = "0014_alarms"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "device_diagnostics",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("log_backup", sa.Boolean(), nullable=False),
        sa.Column("updated_on", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_index("ix_device_diagnostics_log_backup", "device_diagnostics", ["log_backup"])
    op.create_table(
        "diagnosis_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox_message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_diagnosis_request_device_id", "diagnosis_request", ["device_id"])


def downgrade():
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key uses).
    op.drop_table("diagnosis_request")
    op.drop_table("device_diagnostics")
