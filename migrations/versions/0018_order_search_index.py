"""A covering index for searching a small scope's orders: (enterprise_id, reseller, id).

A search word becomes "enterprise_id IN (the enterprises it names) OR reseller LIKE 'word%'".
For a small channel MariaDB merged the two indexes over the whole platform's matches and read
those rows at random to join them to the scope: 600-780 ms a page whenever they were not in
the buffer pool (bench/bench_order_list.py, 1M orders, 128 MB pool). With this index the
scope's orders are read as index entries, reseller included: 25-33 ms.

Revision ID: 0018_order_search_index
Revises: 0017_alarm_daily
"""

from alembic import op

revision = "0018_order_search_index"
down_revision = "0017_alarm_daily"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_service_order_enterprise_reseller", "service_order",
                    ["enterprise_id", "reseller", "id"])


def downgrade():
    op.drop_index("ix_service_order_enterprise_reseller", table_name="service_order")
