"""Rules about RPS devices: who may hold them and what their fields may hold.

Plain functions over a session; no Flask request objects. Each raises a typed error whose
``template`` % ``params`` is the message for the user (views translate the template).
"""

import ipaddress
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Enterprise, InvalidMac, PermissionType, RpsDevice, Status, normalize_mac

URL_MAX = 512
SERVER_URL_SCHEMES = ("http", "https")
# What a Yealink phone accepts as its provisioning server.
UNIQUE_URL_SCHEMES = ("http", "https", "ftp", "tftp")


def _N(message):
    """Marks a message for translation; views translate ``error.template`` % params."""
    return message


class RpsError(ValueError):
    """Refused. ``field`` names the form field at fault, or None for the whole device."""

    field = None

    def __init__(self, template, **params):
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


class NotRpsEnterprise(RpsError):
    field = "enterprise"


class InvalidRpsField(RpsError):
    def __init__(self, field, template, **params):
        super().__init__(template, **params)
        self.field = field


class DuplicateMac(RpsError):
    field = "mac"


NO_ENTERPRISE = _N("Choose the RPS enterprise the device belongs to.")
NOT_RPS = _N("%(name)s is not an RPS enterprise: only RPS enterprises hold RPS devices.")
# MACs are unique on the whole platform. The one refusal for a MAC held by any device
# anywhere and for a malformed one: the wording tells nobody what other trees hold.
MAC_REFUSED = _N("This MAC address cannot be used: enter the 12 hexadecimal digits of a "
                 "device of yours, e.g. 00:15:65:12:34:56.")
BAD_SERVER_URL = _N("Enter a full http:// or https:// URL, e.g. https://dm.example.com/.")
BAD_UNIQUE_URL = _N("Enter a full http, https, ftp or tftp URL.")
TOO_LONG_URL = _N("The URL may have at most %(n)s characters.")
BAD_IP = _N("Not an IPv4 or IPv6 address.")


def check_rps_enterprise(enterprise):
    """Only RPS enterprises hold RPS devices."""
    if enterprise is None:
        raise NotRpsEnterprise(NO_ENTERPRISE)
    permission = enterprise.permission_type
    if PermissionType(permission) != PermissionType.rps:
        raise NotRpsEnterprise(NOT_RPS, name=enterprise.name)


def clean_mac(value):
    try:
        return normalize_mac(value)
    except InvalidMac:
        raise InvalidRpsField("mac", MAC_REFUSED) from None


def _clean_url(field, value, schemes, message, required):
    url = (value or "").strip()
    if not url:
        if required:
            raise InvalidRpsField(field, message)
        return None
    if len(url) > URL_MAX:
        raise InvalidRpsField(field, TOO_LONG_URL, n=URL_MAX)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidRpsField(field, message) from None
    if parts.scheme.lower() not in schemes or not parts.hostname or any(
            ch.isspace() for ch in url):
        raise InvalidRpsField(field, message)
    return url


def clean_server_url(value):
    """The URL the redirect service sends the device to: required, http or https."""
    return _clean_url("server_url", value, SERVER_URL_SCHEMES, BAD_SERVER_URL, required=True)


def clean_unique_url(value):
    """The device's own provisioning URL: optional."""
    return _clean_url("unique_url", value, UNIQUE_URL_SCHEMES, BAD_UNIQUE_URL, required=False)


def clean_ip(value):
    """An IPv4 or IPv6 address in its canonical spelling, or None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidRpsField("ip", BAD_IP) from None


def check_mac_free(session, mac, device_id=None):
    """MACs are unique across all RPS devices, whoever holds them."""
    query = select(RpsDevice.id).where(RpsDevice.mac == mac)
    if device_id is not None:
        query = query.where(RpsDevice.id != device_id)
    with session.no_autoflush:  # the device being saved may already sit in the session
        if session.execute(query.limit(1)).first() is not None:
            raise DuplicateMac(MAC_REFUSED)


def validate_rps_device(session, device):
    """Every rule at once, before a device is saved; cleans its fields in place."""
    enterprise = device.enterprise
    if enterprise is None and device.enterprise_id is not None:
        enterprise = session.get(Enterprise, device.enterprise_id)
    check_rps_enterprise(enterprise)
    device.mac = clean_mac(device.mac)
    device.server_url = clean_server_url(device.server_url)
    device.unique_url = clean_unique_url(device.unique_url)
    device.ip = clean_ip(device.ip)
    check_mac_free(session, device.mac, device.id)


def server_url_for(session, mac):
    """The redirect answer for a device: its server URL, or None when the MAC is unknown
    (or not a MAC at all)."""
    try:
        mac = normalize_mac(mac)
    except InvalidMac:
        return None
    # A frozen RPS enterprise's devices get no answer, as if unknown.
    return session.execute(
        select(RpsDevice.server_url).join(Enterprise, Enterprise.id == RpsDevice.enterprise_id)
        .where(RpsDevice.mac == mac, Enterprise.status == Status.active)).scalar_one_or_none()
