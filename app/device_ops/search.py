"""The device list's search box: what people type, as one WHERE clause."""

from sqlalchemy import or_

from app.core.listing import like_pattern
from app.models import Device

_HEX = frozenset("0123456789abcdef")
_IP_CHARS = frozenset("0123456789.")
MAC_LENGTH = 12


def device_search(query, text):
    """The device list's search box: a MAC by any part, with or without separators, in any
    case ("d0000", "00:15:65:D0"); an IP address by any part ("10.2.3", "2.3"); anything
    else a model's beginning. A whole MAC is found through its unique index; a part of one
    or of an address is a substring match, which reads every device in scope (see README,
    "Searching devices by part of a MAC")."""
    compact = text.replace(":", "").replace("-", "").lower()
    ip_like = bool(text) and set(text) <= _IP_CHARS
    mac_like = bool(compact) and set(compact) <= _HEX
    if mac_like and len(compact) == MAC_LENGTH:
        return query.where(Device.mac == compact)
    found = []
    if mac_like:
        found.append(Device.mac.like(like_pattern(compact, contains=True), escape="\\"))
    if ip_like:
        found.append(Device.ip.like(like_pattern(text, contains=True), escape="\\"))
    if not found:
        found.append(Device.model.like(like_pattern(text), escape="\\"))
    return query.where(or_(*found))
