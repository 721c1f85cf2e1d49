"""Which models and firmware take a feature, as one table, and the version comparison behind
it. Plain functions, no database.

Yealink firmware versions are ``XX.YY.ZZ.WW``: XX is the model's own number (the spec: "XX
represents the fixed number of each device model"), YY the release line, then the build. A
minimum written ``XX.32.0.35`` takes any model number, release line 32 from build 0.35, and
any later release line (33, 40, ...: "or later"); a minimum with a number in place of XX
(``63.32.0.35``) also needs that model number. Every number is compared as a number and the
whole version is compared (``63.32.0.35.2`` is later than ``63.32.0.35``); a suffix after the
numbers (``-rc1``, `` beta``) is ignored.
"""

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^\s*[vV]?(\d{1,6}(?:\.\d{1,6}){2,7})(?:[-_ +~].*)?\s*$")
_MINIMUM = re.compile(r"^(XX|\d{1,6})((?:\.\d{1,6}){2,7})$")


@dataclass(frozen=True)
class Support:
    family: str  # as people call it (the refusal names it)
    models: tuple  # the family's model names
    minimum: str  # "XX.32.0.35"
    source: str


# The diagnostic page's log settings (spec ch. 6 "Setting Device Log": "only available for
# the video conferencing system, version XX.32.0.35 or later").
LOG_SETTINGS = (
    Support("Video conferencing systems",
            ("VC200", "VC210", "VC500", "VC800", "VC880", "MeetingEye 400", "MeetingEye 600",
             "PVT950", "PVT980"),
            "XX.32.0.35", "Spec ch. 6 'Setting Device Log'"),
)


def parse_version(text):
    """(model number, (release line, build numbers...)) of a firmware version, or None."""
    match = _VERSION.match(str(text or ""))
    if not match:
        return None
    numbers = tuple(int(n) for n in match.group(1).split("."))
    return numbers[0], numbers[1:]


def parse_minimum(text):
    """(model number or None for XX, (release line, build numbers...)) of a minimum."""
    match = _MINIMUM.match(str(text or "").strip())
    if not match:
        raise ValueError(f"not a minimum version: {text!r}")
    prefix = None if match.group(1) == "XX" else int(match.group(1))
    return prefix, tuple(int(n) for n in match.group(2).lstrip(".").split("."))


def _padded(numbers, length):
    return numbers + (0,) * (length - len(numbers))


def version_at_least(firmware, minimum):
    """True when ``firmware`` is ``minimum`` or later (see the module's doc)."""
    version = parse_version(firmware)
    if version is None:
        return False
    prefix, rest = version
    wanted_prefix, wanted = parse_minimum(minimum)
    if wanted_prefix is not None and prefix != wanted_prefix:
        return False
    length = max(len(rest), len(wanted))
    return _padded(rest, length) >= _padded(wanted, length)


def _model_key(model):
    return re.sub(r"[\s_-]+", "", str(model or "")).upper()


def in_family(model, support):
    """The model is one of the family's: the same name (spaces, hyphens and case aside), or
    that name and a variant letter or suffix (VC800-E, MeetingEye 600 Pro), never a longer
    number (VC2000 is no VC200)."""
    key = _model_key(model)
    if not key:
        return False
    for name in support.models:
        known = _model_key(name)
        if key == known or (key.startswith(known) and not key[len(known)].isdigit()):
            return True
    return False


def family_of(model, table):
    """The table's row for the model, or None."""
    return next((row for row in table if in_family(model, row)), None)


def supported(model, firmware, table):
    """(True, row) when the model's family takes the feature at this firmware; (False, row)
    when the family does but the firmware is older or unreadable; (False, None) when no
    family of the table has the model."""
    row = family_of(model, table)
    if row is None:
        return False, None
    return version_at_least(firmware, row.minimum), row
