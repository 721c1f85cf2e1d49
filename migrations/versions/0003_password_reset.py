"""password reset links and captcha uses

Revision ID: 0003_password_reset
Revises: 0002_mail_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_password_reset"
down_revision = "0002_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_reset_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_on", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("password_reset_token") as batch_op:
        batch_op.create_index("ix_password_reset_token_account_id", ["account_id"])
    op.create_table(
        "captcha_use",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("used_on", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("captcha_use") as batch_op:
        batch_op.create_index("ix_captcha_use_used_on", ["used_on"])


def downgrade():
    op.drop_table("captcha_use")
    op.drop_table("password_reset_token")
