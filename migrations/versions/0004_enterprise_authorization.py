"""when an enterprise answered its channel's authorization prompt

Revision ID: 0004_enterprise_authorization
Revises: 0003_password_reset
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_enterprise_authorization"
down_revision = "0003_password_reset"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("enterprise") as batch_op:
        batch_op.add_column(sa.Column("authorization_answered_on", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("enterprise") as batch_op:
        batch_op.drop_column("authorization_answered_on")
