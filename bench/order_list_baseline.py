"""The order list benchmark's yardstick (bench/bench_order_list.py): a hand-written page of
the same 50 orders, served by gunicorn as ``order_list_baseline:handwritten_app()``."""

import os

HAND_PATH = "/orders"
HELLO_PATH = "/hello"

HAND_SQL = """
    SELECT service_order.id, service_order.created_on, enterprise.name AS enterprise_name,
           channel.name AS distributor, service_order.reseller, service_order.package_name,
           service_order.quantity, service_order.max_devices, service_order.duration_months,
           service_order.expires_on, service_order.status
    FROM service_order
    LEFT OUTER JOIN enterprise ON enterprise.id = service_order.enterprise_id
    LEFT OUTER JOIN channel ON channel.id = service_order.channel_id
    ORDER BY service_order.id DESC
    LIMIT 50
"""

HAND_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Orders</title></head><body>
<h1>Order Management</h1>
<table>
<thead><tr><th>Order ID</th><th>Order Time</th><th>Enterprise</th><th>Distributor</th>
<th>Reseller</th><th>Package</th><th>Max Devices</th><th>Service Duration (months)</th>
<th>Expiration Date</th><th>Status</th></tr></thead>
<tbody>
{% for o in rows %}<tr><td><a href="/order/{{ o.id }}">{{ o.id }}</a></td>
<td>{{ o.created_on.strftime('%Y-%m-%d %H:%M') }}</td><td>{{ o.enterprise_name or '' }}</td>
<td>{{ o.distributor or '' }}</td><td>{{ o.reseller }}</td>
<td>{{ o.package_name }} &times; {{ o.quantity }}</td><td>{{ o.max_devices }}</td>
<td>{{ o.duration_months }}</td><td>{{ o.expires_on.isoformat() }}</td>
<td>{{ o.status }}</td></tr>
{% endfor %}</tbody></table></body></html>"""


def handwritten_app():
    """The yardstick, served by gunicorn as ``order_list_baseline:handwritten_app()``: a plain
    Flask page with the platform admin's first 50 orders (the same LEFT JOINs and columns as
    the order list, newest first), one Jinja table compiled once; no login, no permissions,
    no count, no layout. ``/hello`` is a hello world on the same server."""
    from flask import Flask
    from sqlalchemy import create_engine, text

    app = Flask(__name__)
    template = app.jinja_env.from_string(HAND_TEMPLATE)
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, pool_recycle=3600)
    query = text(HAND_SQL)

    @app.route(HAND_PATH)
    def orders():
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        return template.render(rows=rows)

    @app.route(HELLO_PATH)
    def hello():
        return "Hello, World!"

    return app
