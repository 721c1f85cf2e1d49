"""The Operation Log's (tenant, filter, id) indexes (a page of a small tenant with a filter
walks one of them per tenant: bench/bench_oplog.py); the enterprise an outbox mail is
about (the channel's "Account Mail" column) and the outbox's time index (its retention)

Revision ID: 0016_oplog_indexes
Revises: 0015_diagnostics
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_oplog_indexes"
down_revision = "0015_diagnostics"
branch_labels = None
depends_on = None

TENANT_FILTER_INDEXES = [
    (f"ix_operation_log_{tenant[:-3]}_{column}", [tenant, column, "id"])
    for tenant in ("channel_id", "enterprise_id") for column in ("operation", "result",
                                                                 "username", "path")
] + [("ix_operation_log_path", ["path", "id"])]


def upgrade():
    for name, columns in TENANT_FILTER_INDEXES:
        op.create_index(name, "operation_log", columns)
    # No foreign key: the mail outlives the enterprise it was about (as the log's tenant ids).
    op.add_column("outbox_message", sa.Column("enterprise_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_message_enterprise", "outbox_message", ["enterprise_id", "id"])
    op.create_index("ix_outbox_message_created", "outbox_message", ["created_on"])
    # The account mails queued before: matched as they were until now, by address and subject.
    op.execute(
        "UPDATE outbox_message SET enterprise_id = (SELECT MIN(enterprise.id) FROM enterprise"
        " WHERE enterprise.email = outbox_message.recipient)"
        " WHERE subject IN ('YMCS: your account', 'YMCS: your password was reset')")


def downgrade():
    op.drop_index("ix_outbox_message_created", table_name="outbox_message")
    op.drop_index("ix_outbox_message_enterprise", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("enterprise_id")
    for name, _columns in reversed(TENANT_FILTER_INDEXES):
        op.drop_index(name, table_name="operation_log")
