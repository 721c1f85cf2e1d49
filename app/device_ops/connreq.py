"""Connection requests (TR-069 3.2.2): an HTTP GET with Digest auth to the device's
ConnectionRequestURL makes it open a session now instead of at its next periodic Inform."""

import logging

import requests
from requests.auth import HTTPDigestAuth


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


class WakeResult:
    def __init__(self, ok, template, **params):
        self.ok = ok
        self.template = template
        self.params = params

    def __str__(self):
        return self.template % self.params if self.params else self.template


def wake_device(device, timeout=5.0):
    """Send the connection request; never raises (the command stays queued either way)."""
    url = device.cr_url
    if not url or not url.startswith(("http://", "https://")):
        return WakeResult(False, NO_URL)
    auth = HTTPDigestAuth(device.cr_username or "", device.cr_password or "")
    try:
        response = requests.get(url, auth=auth, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        log.info("connection request to %s failed: %s", device.mac, exc)
        return WakeResult(False, UNREACHABLE, reason=reason)
    if response.status_code in (200, 204):
        return WakeResult(True, WOKEN)
    return WakeResult(False, REFUSED, status=response.status_code)
