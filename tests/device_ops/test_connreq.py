"""Connection requests go only where the device is: the address its last session came from (or
an allowed network), never loopback or link-local unless allowed, no proxy, no redirect.
Real HTTP listeners count what reaches them."""

import http.server
import threading
from types import SimpleNamespace

import pytest

from app.device_ops import connreq
from app.models import Device

from ..acs_support import basic, credentials, give_quota, inform


class Listener:
    """An HTTP server on ``host`` answering every GET with ``status`` (and ``location``)."""

    def __init__(self, host="127.0.0.1", status=200, location=None):
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                outer.hits.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/cr"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners():
    made = []

    def make(**options):
        made.append(Listener(**options))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def phone(cr_url, remote_ip):
    return SimpleNamespace(mac="001565000001", cr_url=cr_url, remote_ip=remote_ip,
                           cr_username="cr1", cr_password="pw")


def test_request_goes_to_the_address_the_device_connects_from(listeners):
    target = listeners()
    woke = connreq.wake_device(phone(target.url, "127.0.0.1"), timeout=3, allow_loopback=True)
    assert woke.ok and target.hits == ["/cr"]


def test_url_pointing_elsewhere_is_not_requested(listeners):
    # the device connects from 127.0.0.1 but names another local service
    elsewhere = listeners(host="127.0.0.2")
    woke = connreq.wake_device(phone(elsewhere.url, "127.0.0.1"), timeout=3,
                               allow_loopback=True)
    assert not woke.ok and woke.template == connreq.NOT_ITS_ADDRESS
    # a device somewhere on the internet naming a host on ours
    local = listeners()
    woke = connreq.wake_device(phone(local.url, "198.51.100.7"), timeout=3, allow_loopback=True)
    assert not woke.ok and woke.template == connreq.NOT_ITS_ADDRESS
    # a host name: its DNS answer is not ours to trust
    by_name = local.url.replace("127.0.0.1", "localhost")
    woke = connreq.wake_device(phone(by_name, "127.0.0.1"), timeout=3, allow_loopback=True)
    assert not woke.ok and woke.template == connreq.NOT_ITS_ADDRESS
    assert elsewhere.hits == [] and local.hits == []


def test_loopback_and_link_local_are_refused_unless_allowed(listeners):
    target = listeners()
    woke = connreq.wake_device(phone(target.url, "127.0.0.1"), timeout=3)
    assert not woke.ok and woke.params == {"address": "127.0.0.1"}
    metadata = "http://169.254.169.254/latest/meta-data/"
    woke = connreq.wake_device(phone(metadata, "169.254.169.254"), timeout=1)
    assert not woke.ok and woke.template == connreq.FORBIDDEN_ADDRESS
    assert target.hits == []


def test_allowed_network_admits_a_device_behind_nat(listeners):
    target = listeners()
    nat = connreq.parse_networks("10.0.0.0/8, 127.0.0.0/8")
    woke = connreq.wake_device(phone(target.url, "203.0.113.5"), timeout=3, networks=nat,
                               allow_loopback=True)
    assert woke.ok and target.hits == ["/cr"]


def test_redirects_are_not_followed_and_proxies_not_used(listeners, monkeypatch):
    final = listeners(host="127.0.0.3")
    proxy = listeners(host="127.0.0.4")
    monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/", 1)[0])
    monkeypatch.setenv("http_proxy", proxy.url.rsplit("/", 1)[0])
    redirecting = listeners(status=302, location=final.url)
    woke = connreq.wake_device(phone(redirecting.url, "127.0.0.1"), timeout=3,
                               allow_loopback=True)
    assert not woke.ok and woke.params == {"status": 302}
    assert redirecting.hits == ["/cr"] and final.hits == [] and proxy.hits == []


@pytest.mark.parametrize("url", ["http://[::1", "ftp://127.0.0.1/", "http://127.0.0.1:99999/",
                                 "", None, "http:///nohost"])
def test_malformed_urls_are_refused_without_raising(url):
    woke = connreq.wake_device(phone(url, "127.0.0.1"), timeout=1, allow_loopback=True)
    assert not woke.ok and woke.template == connreq.NO_URL


def test_connect_now_never_requests_the_url_a_device_made_up(app, login, fresh_tree,
                                                            listeners):
    """Over HTTP: the device informs from 127.0.0.1 naming a listener on 127.0.0.2; the
    channel's "Connect now" says so and the listener hears nothing."""
    from sqlalchemy import select

    from app.extensions import db

    trap = listeners(host="127.0.0.2")
    t = fresh_tree
    mac = "001565fe0001"
    with app.app_context():
        give_quota(db.session, t.E, 10)
        headers = basic(*credentials(db.session, t.E))
    r = app.test_client().post("/acs", headers=headers, data=inform(mac, params={
        "Device.ManagementServer.ConnectionRequestURL": trap.url}))
    assert r.status_code == 200
    with app.app_context():
        device = db.session.execute(select(Device).where(Device.mac == mac)).scalar_one()
        assert device.remote_ip == "127.0.0.1" and device.cr_url == trap.url
        pk = device.id
    c = login(t.c_email, t.password)
    r = c.post(f"/devicemodelview/command/{pk}", {"kind": "reboot", "connect_now": "1"},
               follow_redirects=True)
    assert r.status_code == 200
    assert b"does not point at the address it connects from" in r.data
    assert trap.hits == []


def test_behind_proxy_hops_the_device_address_is_the_forwarded_one(app, fresh_tree):
    """PROXY_HOPS=1: the proxy's X-Forwarded-For names the device (whose connection request
    address that is); without the setting the header is ignored (anyone could send it)."""
    from sqlalchemy import select

    from app.extensions import db

    from ..conftest import make_app

    with app.app_context():
        give_quota(db.session, fresh_tree.E, 10)
        headers = {**basic(*credentials(db.session, fresh_tree.E)),
                   "X-Forwarded-For": "198.51.100.23"}
    proxied = make_app(app.config["SQLALCHEMY_DATABASE_URI"], PROXY_HOPS=1)
    for client_app, mac, seen in ((app, "001565fe0002", "127.0.0.1"),
                                  (proxied, "001565fe0003", "198.51.100.23")):
        assert client_app.test_client().post("/acs", headers=headers,
                                              data=inform(mac)).status_code == 200
        with app.app_context():
            assert db.session.execute(select(Device.remote_ip).where(
                Device.mac == mac)).scalar_one() == seen
