"""System Management: mail attachments (Feedback), the operation log's filter indexes, an
address's latest mail (delivery status on the enterprise list)

Revision ID: 0012_system_management
Revises: 0011_device_interop
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0012_system_management"
down_revision = "0011_device_interop"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("data", sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"),
                  nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_attachment_message_id", "outbox_attachment", ["message_id"])
    op.create_index("ix_outbox_message_recipient", "outbox_message", ["recipient", "id"])
    op.create_index("ix_operation_log_operation", "operation_log", ["operation", "id"])
    op.create_index("ix_operation_log_username", "operation_log", ["username", "id"])
    op.create_index("ix_operation_log_result", "operation_log", ["result", "id"])


def downgrade():
    op.drop_index("ix_operation_log_result", table_name="operation_log")
    op.drop_index("ix_operation_log_username", table_name="operation_log")
    op.drop_index("ix_operation_log_operation", table_name="operation_log")
    op.drop_index("ix_outbox_message_recipient", table_name="outbox_message")
    op.drop_table("outbox_attachment")  # its index goes with it (MariaDB's FK needs it)
