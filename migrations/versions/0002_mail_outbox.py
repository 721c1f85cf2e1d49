"""mail outbox

Revision ID: 0002_mail_outbox
Revises: 2f631f2f17b8
Create Date: 2026-11-26 01:50:36.652522

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_mail_outbox'
down_revision = '2f631f2f17b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='outboxstatus', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    # The sender's sweep: pending rows whose next_attempt_at has come.
    op.create_index('ix_outbox_message_due', 'outbox_message', ['status', 'next_attempt_at'],
                    unique=False)


def downgrade():
    # The index goes with its table (it backs no foreign key, so MariaDB lets it).
    op.drop_table('outbox_message')
