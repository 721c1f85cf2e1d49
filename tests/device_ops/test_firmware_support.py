"""The one table of which models and firmware take a feature (the diagnostic page's log
settings: video conferencing systems from XX.32.0.35), without HTTP."""

from types import SimpleNamespace

import pytest

from app.device_ops import diagnostics, firmware_support
from app.device_ops.firmware_support import Support, parse_version, version_at_least


@pytest.mark.parametrize("firmware, minimum, ok", [
    ("63.32.0.35", "XX.32.0.35", True),   # the minimum itself
    ("118.32.0.35", "XX.32.0.35", True),  # any model number in place of XX
    ("63.32.0.40", "XX.32.0.35", True),
    ("63.32.1.0", "XX.32.0.35", True),
    ("63.32.0.100", "XX.32.0.35", True),  # numbers, not text: 100 > 35
    ("63.32.0.35.2", "XX.32.0.35", True),  # the whole version: a fifth number is later
    ("63.33.0.1", "XX.32.0.35", True),    # a later release line
    ("63.32.0.34", "XX.32.0.35", False),
    ("63.32.0.4", "XX.32.0.35", False),   # 4 < 35 (as text "4" > "35")
    ("63.31.9.99", "XX.32.0.35", False),  # an earlier release line, however late its build
    ("63.0.32.35", "XX.32.0.35", False),  # the same numbers in other places
    ("32.0.35", "XX.32.0.35", False),     # no model number: not a Yealink version
    ("63.32.0.35-rc1", "XX.32.0.35", True),  # a suffix after the numbers is ignored
    ("V63.32.0.40", "XX.32.0.35", True),
    ("63.32.0.x", "XX.32.0.35", False),
    ("", "XX.32.0.35", False),
    (None, "XX.32.0.35", False),
    ("garbage", "XX.32.0.35", False),
    ("63.32.0.35", "63.32.0.35", True),   # a minimum with its model number needs that one
    ("118.32.0.35", "63.32.0.35", False),
])
def test_version_at_least(firmware, minimum, ok):
    assert version_at_least(firmware, minimum) is ok


def test_versions_are_parsed_whole():
    assert parse_version("63.32.0.35") == (63, (32, 0, 35))
    assert parse_version("63.32.0.35.7 beta") == (63, (32, 0, 35, 7))
    assert parse_version("63.32") is None
    with pytest.raises(ValueError):
        firmware_support.parse_minimum("32.0.35x")


@pytest.mark.parametrize("model, family", [
    ("VC800", True), ("vc800", True), ("VC800-E", True), ("MeetingEye 600", True),
    ("MeetingEye600", True), ("meetingeye-400 Pro", True), ("PVT980", True),
    ("VC8000", False),  # a longer number is another model
    ("VC", False), ("SIP-T54W", False), ("", False), (None, False),
])
def test_model_families(model, family):
    assert (firmware_support.family_of(model, firmware_support.LOG_SETTINGS)
            is not None) is family


def test_a_table_row_decides_family_and_firmware_together():
    table = (Support("Room systems", ("VC800",), "XX.32.0.35", "test"),
             Support("Phones", ("SIP-T54W",), "96.86.0.70", "test"))
    assert firmware_support.supported("VC800", "63.32.0.35", table) == (True, table[0])
    assert firmware_support.supported("VC800", "63.31.0.90", table) == (False, table[0])
    assert firmware_support.supported("SIP-T54W", "96.86.0.70", table) == (True, table[1])
    assert firmware_support.supported("SIP-T54W", "95.86.0.70", table) == (False, table[1])
    assert firmware_support.supported("CP960", "73.86.0.5", table) == (False, None)


@pytest.mark.parametrize("model, firmware, reason", [
    ("VC800", "63.32.0.35", None),
    ("VC500", "63.40.0.1", None),
    ("MeetingEye 600", "118.32.0.40", None),
    ("VC800", "63.32.0.34", diagnostics.OLD_FIRMWARE),
    ("VC800", "63.31.9.99", diagnostics.OLD_FIRMWARE),
    ("VC800", "garbage", diagnostics.OLD_FIRMWARE),
    ("VC8000", "63.32.0.40", diagnostics.NOT_VIDEO),
    ("SIP-T54W", "96.86.0.70", diagnostics.NOT_VIDEO),
    ("", "", diagnostics.NOT_VIDEO),
])
def test_the_log_settings_refusal_follows_the_table(model, firmware, reason):
    refusal = diagnostics.log_settings_refusal(SimpleNamespace(model=model, firmware=firmware))
    assert (refusal[0] if refusal else None) == reason
    if reason == diagnostics.OLD_FIRMWARE:
        assert refusal[1] == {"minimum": "XX.32.0.35", "firmware": firmware}
