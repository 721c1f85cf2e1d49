"""What phones fetch over plain HTTP: Yealink auto-provisioning files and the RPS lookup.

- ``GET /provisioning/y0000000000XX.cfg`` (the common file, any 2-digit hardware code) and
  ``GET /provisioning/<mac>.cfg``: HTTP Basic or Digest with the enterprise's ACS credentials
  (``ent<id>`` / ``Enterprise.acs_password``). A device file is served only for a device of
  the authenticated enterprise; anything else is a 404, whoever owns the MAC.
- ``GET /rps/lookup?mac=<mac>`` (alias ``GET /rps/<mac>``): the redirect service a phone asks
  at first boot. No login; it answers the server URL and nothing else about the device.

Names are checked before credentials (a name we never serve is a 404 that tells nothing), then
credentials, then the device; nothing here writes to the database.
"""

import re
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from app.configs.effective import template_settings
from app.device_ops import auth, yealink_cfg
from app.extensions import db
from app.models import Device, Enterprise, InvalidMac, PermissionType, Status, normalize_mac
from app.tenancy import rps

provisioning_bp = Blueprint("provisioning", __name__)

COMMON_FILE_RE = re.compile(r"y0{10}[0-9a-f]{2}\.cfg")
DEVICE_FILE_RE = re.compile(r"([0-9a-f]{12})\.cfg")
MAC_PARAM_MAX = 64  # the longest spelling of a MAC we bother to parse


# --- rules (a session and explicit arguments, no request) ---------------------------------

def provisioning_enterprise(session, username):
    """The enterprise whose phones log in as ``username``, or None when none may: unknown,
    frozen, not a device-management enterprise, or without an ACS password yet."""
    enterprise_id = auth.enterprise_id_of_username(username) if isinstance(username, str) \
        else None
    if enterprise_id is None:
        return None
    enterprise = session.execute(select(Enterprise).where(
        Enterprise.id == enterprise_id,
        Enterprise.status != Status.frozen,
        Enterprise.permission_type == PermissionType.device_management,
    )).scalar_one_or_none()
    if enterprise is None or not enterprise.acs_password:
        return None
    return enterprise


def authenticate_enterprise(session, header, method, secret_key):
    """The enterprise an Authorization header proves, or None."""
    found = {}

    def password_of(username):
        found[username] = provisioning_enterprise(session, username)
        return found[username].acs_password if found[username] else None

    try:
        username = auth.check_authorization(header, method, secret_key, password_of)
    except (TypeError, ValueError):
        # Non-ASCII in a Basic token or a Digest field makes the stdlib raise: not our user.
        return None
    return found.get(username) if username else None


def digest_names_file(header, filename):
    """A Digest answer is bound to its URI: one for another file must not be replayed here.
    Only the last path segment is compared, so a proxy that rewrites the prefix still works."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "digest":
        return True
    uri = auth.parse_digest(value).get("uri", "")
    return unquote(urlsplit(uri).path).rsplit("/", 1)[-1].lower() == filename


def device_of(session, enterprise_id, mac):
    """The enterprise's device with this MAC, or None (another enterprise's device included)."""
    return session.execute(select(Device).where(
        Device.mac == mac, Device.enterprise_id == enterprise_id)).scalar_one_or_none()


def device_file_text(session, device, acs_url, config):
    """The text of ``<mac>.cfg`` for ``device`` (also what a Download of the device's own
    provisioning file fetches from its one-time URL): one function for both."""
    pairs = yealink_cfg.effective_settings(device, device.enterprise, acs_url, config)
    pairs += template_settings(session, device)  # the configuration templates' merge
    return yealink_cfg.render_cfg(pairs)


def requested_file(name):
    """('common', None), ('device', mac), or None for a name we never serve."""
    if not name.isascii():
        return None
    name = name.lower()
    if COMMON_FILE_RE.fullmatch(name):
        return "common", None
    match = DEVICE_FILE_RE.fullmatch(name)
    if match:
        return "device", match.group(1)
    return None


# --- views ----------------------------------------------------------------------------------

def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # provisioning files carry passwords
    return response


def _text(body, status):
    return _no_store(Response(body, status, mimetype="text/plain"))


def _unauthorized():
    response = _text("Authentication required.\n", 401)
    for key, value in auth.challenge_headers(current_app.config["SECRET_KEY"]):
        response.headers.add(key, value)
    return response


def acs_url():
    """The ACS URL phones are given: ACS_PUBLIC_URL, or this server's /acs."""
    return current_app.config.get("ACS_PUBLIC_URL") or request.host_url + "acs"


@provisioning_bp.get("/provisioning/<name>")
def provisioning_file(name):
    wanted = requested_file(name)
    if wanted is None:
        return _text("Not found.\n", 404)
    header = request.headers.get("Authorization")
    enterprise = authenticate_enterprise(db.session, header, request.method,
                                         current_app.config["SECRET_KEY"])
    if enterprise is None or not digest_names_file(header, name.lower()):
        return _unauthorized()
    kind, mac = wanted
    device = None
    if kind == "device":
        device = device_of(db.session, enterprise.id, mac)
        if device is None:
            return _text("Not found.\n", 404)
    if device is not None:
        return _text(device_file_text(db.session, device, acs_url(), current_app.config), 200)
    pairs = yealink_cfg.effective_settings(None, enterprise, acs_url(), current_app.config)
    return _text(yealink_cfg.render_cfg(pairs), 200)


def _rps_answer(raw):
    if not raw or len(raw) > MAC_PARAM_MAX:
        return _no_store(jsonify(error="Give a MAC address: 12 hexadecimal digits.")), 400
    try:
        mac = normalize_mac(raw)
    except InvalidMac:
        return _no_store(jsonify(error="Not a MAC address: 12 hexadecimal digits.")), 400
    server_url = rps.server_url_for(db.session, mac)
    if server_url is None:
        return _no_store(jsonify(error="Unknown MAC address.")), 404
    return _no_store(jsonify(mac=mac, server_url=server_url))


@provisioning_bp.get("/rps/lookup")
def rps_lookup():
    return _rps_answer(request.args.get("mac"))


@provisioning_bp.get("/rps/<path:mac>")
def rps_lookup_by_path(mac):
    return _rps_answer(mac)
