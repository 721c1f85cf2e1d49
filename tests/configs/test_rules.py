"""The template format, its validation line by line, variables and the merge, without HTTP."""

from types import SimpleNamespace

from app.configs import rules
from app.device_ops.yealink_cfg import render_cfg


def errors_of(text):
    return [(e.line, e.template) for e in rules.validate_template(text)]


def test_a_valid_template_has_no_errors():
    text = ("#!version:1.0.0.1\n# a comment\n\naccount.1.label = {{mac}}\n"
            "  features.dnd.enable=1  \nlocal_time.time_zone = +8\n")
    settings, errors = rules.parse_template(text)
    assert errors == []
    assert [(s.key, s.value, s.line) for s in settings] == [
        ("account.1.label", "{{mac}}", 4), ("features.dnd.enable", "1", 5),
        ("local_time.time_zone", "+8", 6)]


def test_each_error_names_its_line():
    text = ("#!version:1.0.0.1\n"
            "just words\n"            # 2: not key = value
            " = 5\n"                  # 3: empty key
            "a.b = 1\n"
            "a.b = 2\n"               # 5: duplicate
            "c.d = bell\x07\n"        # 6: non-printable
            "e.f = {{nope}}\n"        # 7: unknown variable
            "bad key! = 1\n"          # 8: not a setting name
            "static.managementserver.url = http://evil\n")  # 9: the ACS's own key
    assert errors_of(text) == [
        (2, rules.NOT_KEY_VALUE), (3, rules.EMPTY_KEY), (5, rules.DUPLICATE),
        (6, rules.NON_PRINTABLE), (7, rules.UNKNOWN_VARIABLE), (8, rules.BAD_KEY),
        (9, rules.RESERVED)]
    duplicate = rules.validate_template(text)[2]
    assert str(duplicate) == "Line 5: a.b is already set on line 4."


def test_unicode_line_separators_inside_a_line_are_refused():
    assert errors_of("a.b = x\u2028c.d = y\n") == [(1, rules.NON_PRINTABLE)]
    assert errors_of("a.b = x\x0bc\n") == [(1, rules.NON_PRINTABLE)]


def test_too_big_and_binary_templates_are_refused_whole():
    assert errors_of("a.b = " + "x" * (256 * 1024)) == [(0, rules.TOO_BIG)]
    assert errors_of(b"a.b = 1\n\xff\xfe\x00") == [(0, rules.BINARY)]
    assert errors_of("a.b = 1\x00") == [(0, rules.BINARY)]
    assert errors_of(b"x" * (10 * 1024 * 1024)) == [(0, rules.TOO_BIG)]


def test_variables_are_replaced_once_and_never_add_a_line():
    device = SimpleNamespace(id=7, mac="001565aabbcc", serial="SN1", model="SIP-T54W",
                             firmware="96.1", ip="10.0.0.1")
    enterprise = SimpleNamespace(id=3, name="Evil\nstatic.managementserver.url = x {{mac}}")
    channel = SimpleNamespace(id=2, name="Chan\u2028nel")
    variables = rules.device_variables(device, enterprise, channel)
    assert variables["mac_colon"] == "00:15:65:aa:bb:cc"
    value = rules.resolve_value("{{enterprise}}|{{ channel }}|{{mac_upper}}", variables)
    assert "\n" not in value and "\u2028" not in value
    # the enterprise's name is put in as it is: its {{mac}} is not replaced again
    assert value == "Evilstatic.managementserver.url = x {{mac}}|Channel|001565AABBCC"
    text = render_cfg([("account.1.label", value)])
    assert text.count("\n") == 2  # the version line and this one


def test_model_filter():
    assert rules.clean_model_filter(" SIP-T54W,sip-t46u , SIP-T54W") == "SIP-T54W, sip-t46u"
    assert rules.applies_to_model("SIP-T54W, SIP-T46U", "sip-t46u")
    assert not rules.applies_to_model("SIP-T54W", "SIP-T46U")
    assert rules.applies_to_model("", "anything")


def _template(id, name, text, models=""):
    return SimpleNamespace(id=id, name=name, model_filter=models,
                           settings=tuple(rules.parse_template(text)[0]))


def test_merge_later_wins_key_by_key_and_the_model_filter_limits():
    top = _template(1, "top", "a.x = top\na.y = top\na.z = {{model}}\n")
    middle = _template(2, "mid", "a.y = mid\n", models="SIP-T46U")
    enterprise = _template(3, "ent", "a.x = ent\na.w = ent\n")
    merged = rules.merge_templates([top, middle, enterprise],
                                   {"model": "SIP-T54W"}, "SIP-T54W")
    assert [(s.key, s.value, s.template_name) for s in merged] == [
        ("a.x", "ent", "ent"), ("a.y", "top", "top"), ("a.z", "SIP-T54W", "top"),
        ("a.w", "ent", "ent")]
    merged = rules.merge_templates([top, middle, enterprise], {}, "SIP-T46U")
    assert {s.key: s.template_name for s in merged}["a.y"] == "mid"


def test_names_and_download_names():
    assert rules.clean_name("  Office phones ") == "Office phones"
    for bad in ("", "a/b", "x" * 129, "tab\there"):
        try:
            rules.clean_name(bad)
        except rules.ConfigError:
            continue
        raise AssertionError(f"{bad!r} accepted")
    assert rules.download_name('Quo"te; x.cfg') == "Quo_te_ x.cfg.cfg"


def test_stored_body_gets_the_version_header_and_unix_line_ends():
    assert rules.normalized_body("a.b = 1\r\nc.d = 2") == "#!version:1.0.0.1\na.b = 1\nc.d = 2\n"
    assert rules.normalized_body("#!version:1.0.0.1\na.b = 1\n").count("#!version") == 1


def test_a_value_cannot_refer_to_a_setting_or_to_itself():
    # only the built-in variables exist: {{x.y}} naming a setting (even its own) is unknown
    assert errors_of("x.y = {{x.y}}\n") == [(1, rules.UNKNOWN_VARIABLE)]
    assert errors_of("a.b = 1\nx.y = {{a.b}}\n") == [(2, rules.UNKNOWN_VARIABLE)]
    # a value holding braces is replaced once: what a variable puts in is never expanded
    assert rules.resolve_value("{{serial}}", {"serial": "{{serial}}"}) == "{{serial}}"
