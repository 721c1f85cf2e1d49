"""Connection requests (TR-069 3.2.2): an HTTP GET with Digest auth to the device's
ConnectionRequestURL makes it open a session now instead of at its next periodic Inform.

The URL is the device's word, so it is not trusted: the request goes only to the address the
device's last session came from (or a network the operator allows), never to loopback or
link-local addresses unless a setting allows them (the demo's and the tests' phones live on
127.0.0.1), with no proxy, no redirect and a short timeout.
"""

import ipaddress
import logging
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth


def _N(message):
    return message


log = logging.getLogger(__name__)

NO_URL = _N("The device has not told its connection request URL yet; the command runs at its "
            "next periodic contact.")
UNREACHABLE = _N("The device did not answer the connection request (%(reason)s); the command "
                 "runs at its next periodic contact.")
REFUSED = _N("The device refused the connection request (HTTP %(status)s); the command runs at "
             "its next periodic contact.")
WOKEN = _N("The device was asked to connect now.")
NOT_ITS_ADDRESS = _N("The device's connection request URL does not point at the address it "
                     "connects from; no request was sent. The command runs at its next periodic "
                     "contact.")
FORBIDDEN_ADDRESS = _N("Connection requests to %(address)s are not allowed; no request was sent. "
                       "The command runs at its next periodic contact.")


class WakeResult:
    def __init__(self, ok, template, **params):
        self.ok = ok
        self.template = template
        self.params = params

    def __str__(self):
        return self.template % self.params if self.params else self.template


def parse_networks(text):
    """CONNECTION_REQUEST_NETWORKS: comma-separated networks ("10.0.0.0/8, 192.0.2.0/24")."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in (text or "").split(",") if part.strip())


def _address(text):
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:192.0.2.1 is 192.0.2.1
    return mapped or address


def check_target(url, remote_ip, networks=(), allow_loopback=False):
    """None if a connection request may go to ``url``, else the WakeResult refusing it."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return WakeResult(False, NO_URL)
    if parts.scheme not in ("http", "https") or not host:
        return WakeResult(False, NO_URL)
    target = _address(host)  # a host name would mean a DNS answer we do not control
    if target is None:
        return WakeResult(False, NOT_ITS_ADDRESS)
    if target.is_multicast or target.is_unspecified or (
            (target.is_loopback or target.is_link_local) and not allow_loopback):
        return WakeResult(False, FORBIDDEN_ADDRESS, address=str(target))
    if target != _address(remote_ip) and not any(
            target.version == net.version and target in net for net in networks):
        return WakeResult(False, NOT_ITS_ADDRESS)
    return None


def wake_device(device, timeout=5.0, networks=(), allow_loopback=False):
    """Send the connection request; never raises (the command stays queued either way)."""
    url = device.cr_url
    refused = check_target(url, device.remote_ip, networks, allow_loopback)
    if refused is not None:
        log.info("connection request to %s not sent: %s", device.mac, refused)
        return refused
    http = requests.Session()
    http.trust_env = False  # no proxy from the environment: the request goes to the device
    user, password = device.cr_username or "", device.cr_password or ""
    try:
        response = http.get(url, auth=HTTPDigestAuth(user, password), timeout=timeout,
                            allow_redirects=False)
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        if response.status_code == 401 and challenge.startswith("basic"):
            # TR-069 asks for Digest; some devices only take Basic. The credentials are the
            # device's own random pair, good for nothing but waking it.
            response = http.get(url, auth=HTTPBasicAuth(user, password), timeout=timeout,
                                allow_redirects=False)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        log.info("connection request to %s failed: %s", device.mac, exc)
        return WakeResult(False, UNREACHABLE, reason=reason)
    finally:
        http.close()
    if response.status_code in (200, 204):
        return WakeResult(True, WOKEN)
    return WakeResult(False, REFUSED, status=response.status_code)
