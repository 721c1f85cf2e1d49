"""Devices that connect over TR-069: identity, connection requests, the command queue, CPU and
memory samples, and the enterprises' ACS passwords

Revision ID: 0008_device_ops
Revises: 0007_order_list_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_device_ops"
down_revision = "0007_order_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "device_command",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sent",
                "waiting",
                "done",
                "failed",
                name="commandstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("updated_on", sa.DateTime(), nullable=False),
        sa.Column("finished_on", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("fault_code", sa.Integer(), nullable=True),
        sa.Column("fault_string", sa.String(length=512), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("upload_token", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("upload_token"),
    )
    with op.batch_alter_table("device_command", schema=None) as batch_op:
        batch_op.create_index(
            "ix_device_command_device", ["device_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_device_command_status", ["status", "updated_on"], unique=False)

    op.create_table(
        "device_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.DateTime(), nullable=False),
        sa.Column("cpu_usage", sa.Integer(), nullable=True),
        sa.Column("memory_total", sa.BigInteger(), nullable=True),
        sa.Column("memory_free", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("device_sample", schema=None) as batch_op:
        batch_op.create_index("ix_device_sample_device", ["device_id", "taken_on"], unique=False)
        batch_op.create_index("ix_device_sample_taken_on", ["taken_on"], unique=False)

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("manufacturer", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("oui", sa.String(length=6), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("product_class", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("serial", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("data_model", sa.String(length=24), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("periodic_interval", sa.Integer(), nullable=False, server_default="900")
        )
        batch_op.add_column(sa.Column("offline_after", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cr_url", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("cr_username", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cr_password", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("has_work", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("parameters", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parameters_read_on", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cpu_usage", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("memory_total", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("memory_free", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_device_offline_after"), ["offline_after"], unique=False
        )

    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acs_password", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("acs_password")

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_offline_after"))
        batch_op.drop_column("memory_free")
        batch_op.drop_column("memory_total")
        batch_op.drop_column("cpu_usage")
        batch_op.drop_column("parameters_read_on")
        batch_op.drop_column("parameters")
        batch_op.drop_column("has_work")
        batch_op.drop_column("cr_password")
        batch_op.drop_column("cr_username")
        batch_op.drop_column("cr_url")
        batch_op.drop_column("offline_after")
        batch_op.drop_column("periodic_interval")
        batch_op.drop_column("data_model")
        batch_op.drop_column("serial")
        batch_op.drop_column("product_class")
        batch_op.drop_column("oui")
        batch_op.drop_column("manufacturer")

    # The tables take their indexes along; dropping an FK's index first trips MariaDB.
    op.drop_table("device_sample")
    op.drop_table("device_command")
