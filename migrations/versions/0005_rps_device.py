"""RPS devices: MAC, server URL, unique URL and IP of an RPS enterprise's devices

Revision ID: 0005_rps_device
Revises: 0004_enterprise_authorization
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_rps_device"
down_revision = "0004_enterprise_authorization"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rps_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=12), nullable=False),
        sa.Column("server_url", sa.String(length=512), nullable=False),
        sa.Column("unique_url", sa.String(length=512), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mac"),
    )
    # Also backs the foreign key: MariaDB then drops the index it made for it on its own.
    with op.batch_alter_table("rps_device") as batch_op:
        batch_op.create_index("ix_rps_device_enterprise_id", ["enterprise_id", "id"])


def downgrade():
    # The table takes its indexes along; dropping the FK's index first trips MariaDB.
    op.drop_table("rps_device")
