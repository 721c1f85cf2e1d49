"""Rules of configuration templates: the text format, its validation line by line, the
variables a template may use and their values for one device, and what a template's name and
model filter may be. Plain functions, no request objects.

The format is Yealink's auto-provisioning file: a ``#!version:1.0.0.1`` header, ``key = value``
lines and ``#`` comments. A value may contain ``{{variable}}``s, replaced per device in one
pass (a value put in is never read again for variables, so nothing refers to itself), and a
replaced value can never add a line: app/device_ops/yealink_cfg.clean_value drops anything a
parser could take for a line break.
"""

import re
from dataclasses import dataclass, field

from app.device_ops.yealink_cfg import KEY_RE, VERSION_LINE, clean_value
from app.tenancy.rules import TenantError


def _N(message):
    """Marks a message for translation; views translate ``template`` % params."""
    return message


class ConfigError(TenantError):
    """A template or push refused; ``str()`` is the message for the user."""


MAX_BYTES = 256 * 1024
NAME_MAX = 128
MODEL_FILTER_MAX = 255
# Keys the ACS's enrollment block sets: a template changing them would cut the phone off.
RESERVED_PREFIX = "static.managementserver."

VARIABLES = {
    "mac": _N("MAC address, 12 lowercase hex digits"),
    "mac_colon": _N("MAC address with colons (00:15:65:aa:bb:cc)"),
    "mac_upper": _N("MAC address, uppercase"),
    "serial": _N("Serial number"),
    "model": _N("Model"),
    "firmware": _N("Firmware version"),
    "ip": _N("IP address"),
    "device_id": _N("Device id"),
    "enterprise": _N("Enterprise name"),
    "enterprise_id": _N("Enterprise id"),
    "channel": _N("Channel name (the enterprise's channel)"),
    "channel_id": _N("Channel id"),
}
VARIABLE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_MODEL_RE = re.compile(r"^[A-Za-z0-9_.()+/ -]{1,64}$")

TOO_BIG = _N("The template is larger than 256 KB.")
BINARY = _N("The template is not text (binary data).")
NOT_KEY_VALUE = _N("Line %(line)s: not a \"key = value\" line.")
EMPTY_KEY = _N("Line %(line)s: the key is empty.")
BAD_KEY = _N("Line %(line)s: \"%(key)s\" is not a setting name (letters, digits, _ and .).")
DUPLICATE = _N("Line %(line)s: %(key)s is already set on line %(first)s.")
NON_PRINTABLE = _N("Line %(line)s: non-printable characters.")
UNKNOWN_VARIABLE = _N("Line %(line)s: unknown variable {{%(name)s}}.")
RESERVED = _N("Line %(line)s: %(key)s is set by the platform (the device's connection to it) "
              "and cannot be changed by a template.")
NO_NAME = _N("Enter a name.")
LONG_NAME = _N("The name is at most 128 characters.")
BAD_NAME = _N("The name may not contain control characters or / \\.")
BAD_MODELS = _N("Models: names separated by commas (letters, digits, spaces, - _ . ( ) + /).")
BAD_TIME = _N("Enter the date and time as YYYY-MM-DD HH:MM.")
SAME_NAME = _N("%(target)s already has a template named %(name)s.")


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based; 0 for the whole template
    template: str
    params: dict = field(default_factory=dict)

    def __str__(self):
        return self.template % self.params if self.params else self.template


@dataclass(frozen=True)
class Setting:
    key: str
    value: str  # as written, variables not yet replaced
    line: int


def _printable(text):
    return all(ch == "\t" or (ch.isprintable() and ch not in "\u2028\u2029") for ch in text)


def parse_template(text):
    """(settings, errors) of a template's text: every error with its line, nothing invalid
    among the settings. Bytes are decoded as UTF-8 (anything else is binary)."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            return [], [LineError(0, TOO_BIG)]
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return [], [LineError(0, BINARY)]
    text = text or ""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return [], [LineError(0, TOO_BIG)]
    if "\x00" in text:
        return [], [LineError(0, BINARY)]
    settings, errors, first_line = [], [], {}
    # Only \n, \r\n and \r end a line: a form feed or U+2028 inside a line is refused below.
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        stripped = line.strip(" \t")
        if not _printable(line):
            errors.append(LineError(number, NON_PRINTABLE, {"line": number}))
            continue
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key, value = key.strip(" \t"), value.strip(" \t")
        if not sep:
            errors.append(LineError(number, NOT_KEY_VALUE, {"line": number}))
            continue
        if not key:
            errors.append(LineError(number, EMPTY_KEY, {"line": number}))
            continue
        if not KEY_RE.fullmatch(key):
            errors.append(LineError(number, BAD_KEY, {"line": number, "key": key[:80]}))
            continue
        if key.lower().startswith(RESERVED_PREFIX):
            errors.append(LineError(number, RESERVED, {"line": number, "key": key}))
            continue
        if key in first_line:
            errors.append(LineError(number, DUPLICATE,
                                    {"line": number, "key": key, "first": first_line[key]}))
            continue
        unknown = [n for n in VARIABLE_RE.findall(value) if n not in VARIABLES]
        if unknown:
            errors.append(LineError(number, UNKNOWN_VARIABLE,
                                    {"line": number, "name": unknown[0][:40]}))
            continue
        first_line[key] = number
        settings.append(Setting(key, value, number))
    return settings, errors


def validate_template(text):
    """The errors of a template's text, [] when it may be saved."""
    return parse_template(text)[1]


def normalized_body(text):
    """What is stored: the text with \\n line ends and the version header first."""
    text = re.sub(r"\r\n|\r", "\n", text or "")
    if not text.lstrip().startswith(VERSION_LINE):
        text = VERSION_LINE + "\n" + text
    return text if text.endswith("\n") else text + "\n"


# --- variables ---------------------------------------------------------------------------------


def device_variables(device, enterprise=None, channel=None):
    """The values of every variable for one device (missing ones are empty)."""
    mac = device.mac or ""
    return {
        "mac": mac,
        "mac_colon": ":".join(mac[i:i + 2] for i in range(0, len(mac), 2)),
        "mac_upper": mac.upper(),
        "serial": device.serial or "",
        "model": device.model or "",
        "firmware": device.firmware or "",
        "ip": device.ip or "",
        "device_id": str(device.id or ""),
        "enterprise": enterprise.name if enterprise is not None else "",
        "enterprise_id": str(enterprise.id) if enterprise is not None else "",
        "channel": channel.name if channel is not None else "",
        "channel_id": str(channel.id) if channel is not None else "",
    }


def resolve_value(value, variables):
    """The value with its variables replaced, in one pass, and on one line whatever the
    variables hold."""
    replaced = VARIABLE_RE.sub(lambda m: variables.get(m.group(1), ""), value)
    return clean_value(replaced)


# --- names and model filters -------------------------------------------------------------------


def clean_name(name):
    name = (name or "").strip()
    if not name:
        raise ConfigError(NO_NAME)
    if len(name) > NAME_MAX:
        raise ConfigError(LONG_NAME)
    if not _printable(name) or "\t" in name or "/" in name or "\\" in name:
        raise ConfigError(BAD_NAME)
    return name


def clean_model_filter(text):
    """'T54W,  T46U' -> 'T54W, T46U'; '' for every model."""
    models = [m.strip() for m in (text or "").split(",") if m.strip()]
    if any(not _MODEL_RE.match(m) for m in models):
        raise ConfigError(BAD_MODELS)
    joined = ", ".join(dict.fromkeys(models))
    if len(joined) > MODEL_FILTER_MAX:
        raise ConfigError(BAD_MODELS)
    return joined


def applies_to_model(model_filter, model):
    """Whether a template with this filter applies to a device of ``model`` (case-blind)."""
    if not model_filter:
        return True
    wanted = {m.strip().lower() for m in model_filter.split(",") if m.strip()}
    return (model or "").strip().lower() in wanted


def download_name(name):
    """The file name a template downloads as: ``<name>.cfg``, with nothing a file system or a
    header would trip on."""
    safe = re.sub(r"[^\w .()+-]", "_", name).strip(" .") or "template"
    return f"{safe[:120]}.cfg"


# --- the effective configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveSetting:
    key: str
    value: str  # resolved for the device
    template_id: int
    template_name: str
    line: int


def merge_templates(templates, variables, model):
    """The effective configuration from templates in order (each with ``id``, ``name``,
    ``model_filter`` and its parsed ``settings``): a later template wins key by key, a
    template whose model filter does not name ``model`` is skipped. Keys keep the place of
    their first appearance."""
    merged = {}
    for template in templates:
        if not applies_to_model(template.model_filter, model):
            continue
        for setting in template.settings:
            merged[setting.key] = EffectiveSetting(
                setting.key, resolve_value(setting.value, variables), template.id,
                template.name, setting.line)
    return list(merged.values())
