"""Alarm charts from a daily roll-up: alarms first raised per day, enterprise and type,
counted from the alarms already stored; the alarm table's chart index goes (the charts no
longer read the table)

Revision ID: 0017_alarm_daily
Revises: 0016_oplog_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_alarm_daily"
down_revision = "0016_oplog_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "alarm_daily",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("enterprise_id", "day", "type_id"),
    )
    op.create_index("ix_alarm_daily_day", "alarm_daily", ["day", "type_id", "count"])
    # The alarms already stored, counted once (the chart index makes it an index-only read).
    op.execute("INSERT INTO alarm_daily (day, enterprise_id, type_id, severity, count) "
               "SELECT DATE(first_at), enterprise_id, type_id, MIN(severity), COUNT(*) "
               "FROM alarm GROUP BY DATE(first_at), enterprise_id, type_id")
    op.drop_index("ix_alarm_chart", table_name="alarm")


def downgrade():
    op.create_index("ix_alarm_chart", "alarm", ["first_at", "enterprise_id", "severity",
                                                "type_id"])
    op.drop_table("alarm_daily")
