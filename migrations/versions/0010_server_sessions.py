"""Server-side sessions, and failed sign-ins counted per (email, client address)

Revision ID: 0010_server_sessions
Revises: 0009_device_acs_credentials
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_server_sessions"
down_revision = "0009_device_acs_credentials"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "server_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_server_session_account_id", "server_session", ["account_id"])
    op.create_index("ix_server_session_expires_at", "server_session", ["expires_at"])
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("updated_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_login_throttle_email_address", "login_throttle",
                    ["email_digest", "address"], unique=True)
    op.create_index("ix_login_throttle_updated_on", "login_throttle", ["updated_on"])


def downgrade():
    # Their indexes go with the tables (none backs a foreign key).
    op.drop_table("login_throttle")
    op.drop_table("server_session")
