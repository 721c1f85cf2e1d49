"""The ACS benchmark's second yardstick: the work of a periodic Inform session and nothing else.

A bare WSGI app (no framework, no XML parsing, no authentication, no cookie signing), served by
bench_acs.py with the same gunicorn and worker count as the portal: ``POST /acs`` with a body
finds the device's MAC by string search, sends the ACS's own three statements (the device
lookup, the device UPDATE, the sample INSERT: the SQL SQLAlchemy compiles for
app/device_ops/identity.BY_MAC, inventory.TOUCH and inventory.SAMPLE) through the same driver
on one autocommit connection per worker, and answers a fixed InformResponse with a fixed
cookie; the empty POST gets 204; ``GET /health`` is a bare hello world.

    DATABASE_URL=mysql+mysqldb://root@127.0.0.1:3306/ymcs_bench_acs \
        gunicorn -w 4 --chdir bench acs_baseline:app
"""

import datetime
import os
from urllib.parse import unquote, urlsplit

LOOKUP = (
    "SELECT device.id, device.mac, device.cpe_key, device.enterprise_id, device.has_work, "
    "device.cr_username, device.memory_total, device.periodic_interval, "
    "device.missing_parameters, device.metrics_unanswered, device.acs_password AS "
    "device_password, enterprise.status, enterprise.permission_type, enterprise.acs_password "
    "FROM device LEFT OUTER JOIN enterprise ON enterprise.id = device.enterprise_id "
    "WHERE device.mac = %s")
TOUCH = (
    "UPDATE device SET model=%s, firmware=%s, ip=%s, online=%s, last_seen=%s, "
    "manufacturer=%s, oui=%s, product_class=%s, serial=%s, data_model=%s, "
    "periodic_interval=%s, offline_after=%s, cr_url=%s, remote_ip=%s, "
    "cpu_usage=coalesce(%s, device.cpu_usage), memory_total=coalesce(%s, device.memory_total), "
    "memory_free=coalesce(%s, device.memory_free), metrics_unanswered=%s WHERE device.id = %s")
SAMPLE = ("INSERT INTO device_sample (device_id, taken_on, cpu_usage, memory_total, "
          "memory_free) VALUES (%s, %s, %s, %s, %s)")

INFORM_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap-env:Header>'
    b'<cwmp:ID soap-env:mustUnderstand="1">1</cwmp:ID></soap-env:Header><soap-env:Body>'
    b'<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>'
    b'</soap-env:Body></soap-env:Envelope>')
INFORM_HEADERS = [("Content-Type", 'text/xml; charset="utf-8"'),
                  ("Content-Length", str(len(INFORM_RESPONSE))),
                  ("Set-Cookie", "cwmp_session=baseline; HttpOnly; Path=/acs")]
MAC_AT = b"MACAddress</Name><Value"
CPU_AT = b"CPUUsage</Name><Value"
FREE_AT = b"MemoryStatus.Free</Name><Value"
IP_AT = b"IPAddress</Name><Value"
SERIAL_AT = b"<SerialNumber"


def _connect():
    url = urlsplit(os.environ["DATABASE_URL"])
    driver = url.scheme.partition("+")[2] or "mysqldb"
    kwargs = {"host": url.hostname or "127.0.0.1", "port": url.port or 3306,
              "user": unquote(url.username or "root"),
              "password": unquote(url.password or ""),
              "database": url.path.lstrip("/"), "charset": "utf8mb4", "autocommit": True}
    if driver == "pymysql":
        import pymysql

        return pymysql.connect(**kwargs)
    import MySQLdb

    return MySQLdb.connect(**kwargs)


_conn = None  # one per worker, opened after gunicorn forks


def _value(body, marker):
    """The text of the <Value> after ``marker``: a string search, not an XML parser."""
    at = body.find(marker)
    if at < 0:
        return None
    start = body.find(b">", at + len(marker)) + 1
    return body[start:body.find(b"<", start)].decode()


def _inform(body, remote_ip):
    global _conn
    if _conn is None:
        _conn = _connect()
    mac = (_value(body, MAC_AT) or "").replace(":", "").lower()
    cur = _conn.cursor()
    cur.execute(LOOKUP, (mac,))
    row = cur.fetchone()
    if row is None:
        return False
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    cpu, free = int(_value(body, CPU_AT)), int(_value(body, FREE_AT))
    cur.execute(TOUCH, ("SIP-T54W", "96.86.0.100", _value(body, IP_AT), 1, now, "Yealink",
                        "001565", "SIP-T54W", _value(body, SERIAL_AT), "Device", 900,
                        now + datetime.timedelta(seconds=1800), None, remote_ip, cpu, None,
                        free, 0, row[0]))
    cur.execute(SAMPLE, (row[0], now, cpu, row[6], free))
    cur.close()
    return True


def app(environ, start_response):
    if environ["REQUEST_METHOD"] == "GET":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
        return [b"ok\n"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if not body:
        start_response("204 No Content", [])
        return []
    if not _inform(body, environ.get("REMOTE_ADDR")):
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    start_response("200 OK", INFORM_HEADERS)
    return [INFORM_RESPONSE]
