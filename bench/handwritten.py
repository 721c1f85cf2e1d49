"""The yardstick: a hand-written plain Flask page showing the same 50 device rows.

Same database, the same rows (the channel admin's scope) and the same LEFT JOIN to enterprise
as the portal's device list, newest first; one Jinja table compiled once, no login, no
permissions, no count, no layout. Served by bench_list.py under gunicorn
(``gunicorn -w 2 --chdir bench handwritten:app``) with DATABASE_URL and BENCH_CHANNEL_ID set.
"""

import os

from flask import Flask
from sqlalchemy import create_engine, text

# Written the way a person tuning this one page would: the scope test on the LEFT JOINed
# enterprise row (the same rows as the portal's IN-subquery scope: a device without an
# enterprise fails both), STRAIGHT_JOIN so MariaDB walks device's primary key newest first and
# stops after 50 rows instead of joining the whole subtree and sorting it (measured: 0.5 ms
# against 2 s for the plan it picks by itself).
PAGE_SQL = text("""
    SELECT STRAIGHT_JOIN device.id, device.mac, device.model, device.firmware, device.ip,
           device.online, device.last_seen, enterprise.name AS enterprise_name
    FROM device LEFT OUTER JOIN enterprise ON enterprise.id = device.enterprise_id
    WHERE enterprise.channel_id IN (
            SELECT channel_closure.descendant_id FROM channel_closure
            WHERE channel_closure.ancestor_id = :channel_id)
      AND (enterprise.permission_type = 'rps' OR enterprise.`authorization` = 'accepted')
    ORDER BY device.id DESC
    LIMIT 50
""")

SOURCE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Devices</title></head><body>
<h1>Devices</h1>
<table>
<thead><tr><th>MAC</th><th>Model</th><th>Firmware</th><th>IP Address</th><th>Status</th>
<th>Enterprise</th><th>Last Seen</th></tr></thead>
<tbody>
{% for d in rows %}<tr><td><a href="/device/{{ d.id }}">{{ d.mac }}</a></td><td>{{ d.model }}</td>
<td>{{ d.firmware }}</td><td>{{ d.ip }}</td><td>{{ 'Online' if d.online else 'Offline' }}</td>
<td>{{ d.enterprise_name or '' }}</td>
<td>{{ d.last_seen.strftime('%Y-%m-%d %H:%M') if d.last_seen else '' }}</td></tr>
{% endfor %}</tbody></table></body></html>"""

app = Flask(__name__)
TEMPLATE = app.jinja_env.from_string(SOURCE)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, pool_recycle=3600)
CHANNEL_ID = int(os.environ["BENCH_CHANNEL_ID"])


@app.route("/devices")
def devices():
    with engine.connect() as conn:
        rows = conn.execute(PAGE_SQL, {"channel_id": CHANNEL_ID}).all()
    return TEMPLATE.render(rows=rows)
