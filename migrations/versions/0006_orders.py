"""Orders: packages, per-channel order limits, service orders and their history, export jobs

Revision ID: 0006_orders
Revises: 0005_rps_device
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_orders"
down_revision = "0005_rps_device"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("max_devices", sa.Integer(), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.CheckConstraint("duration_months > 0", name="ck_package_duration"),
        sa.CheckConstraint("max_devices > 0", name="ck_package_max_devices"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "order_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("max_open_orders", sa.Integer(), nullable=False),
        sa.CheckConstraint("max_open_orders >= 0", name="ck_order_limit_max"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id"),
    )
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("principal_kind", sa.String(length=32), nullable=False),
        sa.Column("principal_channel_id", sa.Integer(), nullable=True),
        sa.Column("principal_enterprise_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="exportstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rows_total", sa.BigInteger(), nullable=True),
        sa.Column("rows_done", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_on", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.create_index("ix_export_job_account", ["account_id", "id"], unique=False)
        batch_op.create_index("ix_export_job_status", ["status", "id"], unique=False)

    op.create_table(
        "service_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("reseller", sa.String(length=128), nullable=False),
        sa.Column("order_type", sa.String(length=16), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("package_name", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("max_devices", sa.Integer(), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "effective",
                "expired",
                "cancelled",
                name="orderstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("request_key", sa.String(length=32), nullable=True),
        sa.CheckConstraint("expires_on > effective_on", name="ck_service_order_period"),
        sa.CheckConstraint("max_devices > 0", name="ck_service_order_max_devices"),
        sa.CheckConstraint("quantity > 0", name="ck_service_order_quantity"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
        ),
        sa.ForeignKeyConstraint(
            ["package_id"],
            ["package.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("service_order", schema=None) as batch_op:
        batch_op.create_index("ix_service_order_channel_id", ["channel_id", "id"], unique=False)
        batch_op.create_index("ix_service_order_created_on", ["created_on", "id"], unique=False)
        batch_op.create_index("ix_service_order_duration", ["duration_months", "id"], unique=False)
        batch_op.create_index(
            "ix_service_order_enterprise_id", ["enterprise_id", "id"], unique=False
        )
        batch_op.create_index("ix_service_order_expires_on", ["expires_on", "id"], unique=False)
        batch_op.create_index("ix_service_order_package_id", ["package_id"], unique=False)
        batch_op.create_index("ix_service_order_reseller", ["reseller", "id"], unique=False)
        batch_op.create_index(
            "ix_service_order_status_effective", ["status", "effective_on"], unique=False
        )
        batch_op.create_index(
            "ix_service_order_status_expires", ["status", "expires_on"], unique=False
        )

    op.create_table(
        "service_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["service_order.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_order_event", schema=None) as batch_op:
        batch_op.create_index("ix_service_order_event_order", ["order_id", "id"], unique=False)


def downgrade():
    # Tables take their indexes along; dropping an index that backs a foreign key first trips
    # MariaDB.
    for table in ("service_order_event", "service_order", "export_job", "order_limit", "package"):
        op.drop_table(table)
