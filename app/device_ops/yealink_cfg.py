"""Yealink auto-provisioning files: which settings a phone gets, and their text.

Plain functions, no Flask request: the blueprint in provisioning.py decides who asks and
passes the ACS URL in. Config templates (channel < enterprise < device) will slot in to
``effective_settings`` as further layers over the ACS block.
"""

import re
import unicodedata

VERSION_LINE = "#!version:1.0.0.1"
KEY_RE = re.compile(r"[A-Za-z0-9_.]+")

# Yealink parses one `key = value` per line: anything a parser could take for a line break
# (control characters, Unicode line and paragraph separators) would let a stored value add a
# key of its own.
_DROPPED_CATEGORIES = {"Cc", "Zl", "Zp"}


class InvalidKey(ValueError):
    """A setting name that is not `[A-Za-z0-9_.]+`: a bug or a bad template, never served."""


def clean_value(value):
    """The value as text on one line: control characters and line separators removed."""
    text = "" if value is None else str(value)
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)


def acs_settings(enterprise, acs_url, config):
    """The TR-069 enrollment: the phone joins our ACS as its enterprise."""
    return [
        ("static.managementserver.enable", "1"),
        ("static.managementserver.url", acs_url),
        ("static.managementserver.username", enterprise.acs_username),
        ("static.managementserver.password", enterprise.acs_password),
        ("static.managementserver.periodic_inform_enable", "1"),
        ("static.managementserver.periodic_inform_interval",
         str(int(config["DEVICE_PERIODIC_INTERVAL"]))),
    ]


def device_settings(device):
    """What belongs to this device alone: the connection-request credentials the ACS gave it."""
    pairs = []
    if device.cr_username:
        pairs.append(("static.managementserver.connection_request_username", device.cr_username))
    if device.cr_password:
        pairs.append(("static.managementserver.connection_request_password", device.cr_password))
    return pairs


def effective_settings(device, enterprise, acs_url, config):
    """The (key, value) pairs of the common file (``device`` None) or of ``<mac>.cfg``.

    Later layers override earlier ones key by key; the order of first appearance is kept.
    """
    layers = [acs_settings(enterprise, acs_url, config)]
    if device is not None:
        layers.append(device_settings(device))
    merged = {}
    for layer in layers:
        for key, value in layer:
            merged[key] = value
    return list(merged.items())


def render_cfg(pairs):
    """The file's text: the version line, then one `key = value` line per setting."""
    lines = [VERSION_LINE]
    for key, value in pairs:
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            raise InvalidKey(f"Not a Yealink setting name: {key!r}")
        lines.append(f"{key} = {clean_value(value)}")
    return "\n".join(lines) + "\n"
