"""Per-device ACS credentials (a pre-registered device's one credential-less first session
provisions them; every later session presents them or the enterprise's), and the address a
device's last session came from (the only one a connection request may go to)

Revision ID: 0009_device_acs_credentials
Revises: 0008_device_ops
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_device_acs_credentials"
down_revision = "0008_device_ops"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("acs_password", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("remote_ip", sa.String(length=45), nullable=True))
    # A device that has connected already used its one first session: '' = no credential of
    # its own, the enterprise's only. NULL is left to devices that never connected.
    op.execute("UPDATE device SET acs_password = '' WHERE last_seen IS NOT NULL "
               "OR cr_username IS NOT NULL")


def downgrade():
    with op.batch_alter_table("device") as batch:
        batch.drop_column("remote_ip")
        batch.drop_column("acs_password")
