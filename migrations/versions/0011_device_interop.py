"""Devices nobody here wrote: identity by OUI-ProductClass-SerialNumber when the Inform carries
no MAC (the MAC becomes optional), and what the ACS learns of a device's data model (parameters
it lacks; metric reads it never answered)

Revision ID: 0011_device_interop
Revises: 0010_server_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_device_interop"
down_revision = "0010_server_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("device") as batch:
        batch.alter_column("mac", existing_type=sa.String(length=12), nullable=True)
        batch.add_column(sa.Column("cpe_key", sa.String(length=160), nullable=True))
        batch.add_column(sa.Column("missing_parameters", sa.Text(), nullable=True))
        batch.add_column(sa.Column("metrics_unanswered", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.create_unique_constraint("uq_device_cpe_key", ["cpe_key"])


def downgrade():
    op.execute("DELETE FROM device WHERE mac IS NULL")
    with op.batch_alter_table("device") as batch:
        batch.drop_constraint("uq_device_cpe_key", type_="unique")
        batch.drop_column("metrics_unanswered")
        batch.drop_column("missing_parameters")
        batch.drop_column("cpe_key")
        batch.alter_column("mac", existing_type=sa.String(length=12), nullable=False)
