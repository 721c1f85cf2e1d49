"""CWMP (TR-069) SOAP envelopes: parse what a device sends, build what the ACS sends.

Device XML goes through defusedxml with DTDs refused, so entity expansion (billion laughs) and
external entities never reach a parser. Children of CWMP methods are matched by local name:
devices differ on whether they qualify them.
"""

from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CWMP_NAMESPACES = tuple(f"urn:dslforum-org:cwmp-1-{minor}" for minor in range(5))


class CwmpError(ValueError):
    """A device message we refuse; ``code`` is the CWMP fault code to answer with."""

    def __init__(self, message, code=8003):
        super().__init__(message)
        self.code = code


@dataclass
class Message:
    ns: str  # the CWMP namespace the device used; we answer in it
    cwmp_id: str | None
    name: str  # the method's local name: "Inform", "GetParameterValuesResponse", "Fault"…
    body: object  # the method element
    fault: dict = field(default_factory=dict)  # for name == "Fault"


def local(tag):
    return tag.rpartition("}")[2]


def child(element, name):
    for sub in element:
        if local(sub.tag) == name:
            return sub
    return None


def text(element, name, default=""):
    sub = child(element, name)
    return (sub.text or "").strip() if sub is not None else default


def parse(data):
    """A device's envelope -> Message; None for an empty body; CwmpError when refused."""
    if not data or not data.strip():
        return None
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CwmpError(f"not a well-formed XML document without DTD: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise CwmpError("not a SOAP 1.1 envelope")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None or len(body) != 1:
        raise CwmpError("the SOAP body must hold exactly one element")
    method = body[0]
    ns, cwmp_id = None, None
    if header is not None:
        for item in header:
            item_ns, _, name = item.tag[1:].partition("}")
            if name == "ID":
                ns, cwmp_id = item_ns, (item.text or "").strip()
    if method.tag == f"{{{SOAP_ENV}}}Fault":
        detail = child(method, "detail")
        fault_el = child(detail, "Fault") if detail is not None else None
        if ns is None and fault_el is not None:
            ns = fault_el.tag[1:].partition("}")[0]
        message = Message(ns or "", cwmp_id, "Fault", method, _fault_of(fault_el))
    else:
        method_ns = method.tag[1:].partition("}")[0] if method.tag.startswith("{") else ""
        ns = ns or method_ns
        if method_ns and method_ns != ns:
            raise CwmpError("the method and cwmp:ID use different namespaces")
        message = Message(ns, cwmp_id, local(method.tag), method)
    if message.ns not in CWMP_NAMESPACES:
        raise CwmpError(f"unknown CWMP namespace {message.ns[:80]!r}")
    if not message.cwmp_id:
        raise CwmpError("the message has no cwmp:ID header")
    if len(message.cwmp_id) > 64:
        raise CwmpError("cwmp:ID is too long")
    return message


def fault_code(value):
    """A CWMP fault code as the device wrote it: 0 when it is not a number of at most five
    digits (TR-069's codes have four; the column holds what fits)."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 5:
        return int(value)
    return 0


def _fault_of(element):
    if element is None:
        return {"code": 0, "string": "SOAP fault without a CWMP fault"}
    code = fault_code(text(element, "FaultCode", "0"))
    fault = {"code": code, "string": text(element, "FaultString")[:400]}
    details = [f"{text(sub, 'ParameterName')}: {text(sub, 'FaultCode')} {text(sub, 'FaultString')}"
               for sub in element if local(sub.tag) == "SetParameterValuesFault"]
    if details:
        fault["string"] = (fault["string"] + " (" + "; ".join(details) + ")")[:500]
    return fault


def parameter_values(element):
    """{name: value} of a ParameterList of ParameterValueStruct."""
    plist = child(element, "ParameterList")
    values = {}
    if plist is not None:
        for struct in plist:
            name = text(struct, "Name")
            if name:
                values[name] = text(struct, "Value")
    return values


@dataclass
class Inform:
    manufacturer: str
    oui: str
    product_class: str
    serial: str
    events: list  # [(code, command_key)]
    params: dict
    retry_count: int

    @property
    def event_codes(self):
        return {code for code, _ in self.events}


def parse_inform(message):
    body = message.body
    device_id = child(body, "DeviceId")
    if device_id is None:
        raise CwmpError("Inform without DeviceId")
    events = []
    event_list = child(body, "Event")
    if event_list is not None:
        for struct in event_list:
            events.append((text(struct, "EventCode")[:64], text(struct, "CommandKey")[:32]))
    try:
        retry = int(text(body, "RetryCount", "0") or 0)
    except ValueError:
        retry = 0
    return Inform(
        manufacturer=text(device_id, "Manufacturer")[:64], oui=text(device_id, "OUI")[:6],
        product_class=text(device_id, "ProductClass")[:64],
        serial=text(device_id, "SerialNumber")[:64], events=events,
        params=parameter_values(body), retry_count=retry)


# --- what the ACS sends -----------------------------------------------------------------------

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
         'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
         'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="%s">'
         '<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">%s</cwmp:ID></soap-env:Header>'
         '<soap-env:Body>')
_TAIL = "</soap-env:Body></soap-env:Envelope>"


def envelope(ns, cwmp_id, body):
    return (_HEAD % (ns, escape(cwmp_id)) + body + _TAIL).encode("utf-8")


def _e(value):
    return escape(str(value))


def inform_response(ns, cwmp_id):
    return envelope(ns, cwmp_id,
                    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>")


def transfer_complete_response(ns, cwmp_id):
    return envelope(ns, cwmp_id, "<cwmp:TransferCompleteResponse/>")


ACS_METHODS = ("Inform", "TransferComplete", "GetRPCMethods")


def get_rpc_methods_response(ns, cwmp_id):
    names = "".join(f"<string>{m}</string>" for m in ACS_METHODS)
    return envelope(ns, cwmp_id, "<cwmp:GetRPCMethodsResponse><MethodList "
                    f'soap-enc:arrayType="xsd:string[{len(ACS_METHODS)}]">{names}</MethodList>'
                    "</cwmp:GetRPCMethodsResponse>")


def fault(ns, cwmp_id, code, message):
    return envelope(ns, cwmp_id,
                    "<soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault"
                    f"</faultstring><detail><cwmp:Fault><FaultCode>{int(code)}</FaultCode>"
                    f"<FaultString>{_e(message)}</FaultString></cwmp:Fault></detail>"
                    "</soap-env:Fault>")


def get_parameter_values(ns, cwmp_id, names):
    items = "".join(f"<string>{_e(n)}</string>" for n in names)
    return envelope(ns, cwmp_id, "<cwmp:GetParameterValues><ParameterNames "
                    f'soap-enc:arrayType="xsd:string[{len(names)}]">{items}</ParameterNames>'
                    "</cwmp:GetParameterValues>")


def set_parameter_values(ns, cwmp_id, values, parameter_key=""):
    """``values``: [(name, value, xsd type)]."""
    items = "".join(f'<ParameterValueStruct><Name>{_e(n)}</Name><Value xsi:type="{_e(t)}">'
                    f"{_e(v)}</Value></ParameterValueStruct>" for n, v, t in values)
    return envelope(ns, cwmp_id, "<cwmp:SetParameterValues><ParameterList "
                    f'soap-enc:arrayType="cwmp:ParameterValueStruct[{len(values)}]">{items}'
                    f"</ParameterList><ParameterKey>{_e(parameter_key)}</ParameterKey>"
                    "</cwmp:SetParameterValues>")


def set_parameter_attributes(ns, cwmp_id, names, notification):
    items = "".join(f"<SetParameterAttributesStruct><Name>{_e(n)}</Name>"
                    "<NotificationChange>1</NotificationChange>"
                    f"<Notification>{int(notification)}</Notification>"
                    "<AccessListChange>0</AccessListChange>"
                    '<AccessList soap-enc:arrayType="xsd:string[0]"/>'
                    "</SetParameterAttributesStruct>" for n in names)
    return envelope(ns, cwmp_id, "<cwmp:SetParameterAttributes><ParameterList "
                    f'soap-enc:arrayType="cwmp:SetParameterAttributesStruct[{len(names)}]">'
                    f"{items}</ParameterList></cwmp:SetParameterAttributes>")


def download(ns, cwmp_id, command_key, file_type, url, username="", password=""):
    return envelope(ns, cwmp_id,
                    f"<cwmp:Download><CommandKey>{_e(command_key)}</CommandKey>"
                    f"<FileType>{_e(file_type)}</FileType><URL>{_e(url)}</URL>"
                    f"<Username>{_e(username)}</Username><Password>{_e(password)}</Password>"
                    "<FileSize>0</FileSize><TargetFileName></TargetFileName>"
                    "<DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL>"
                    "<FailureURL></FailureURL></cwmp:Download>")


def upload(ns, cwmp_id, command_key, file_type, url, username="", password=""):
    return envelope(ns, cwmp_id,
                    f"<cwmp:Upload><CommandKey>{_e(command_key)}</CommandKey>"
                    f"<FileType>{_e(file_type)}</FileType><URL>{_e(url)}</URL>"
                    f"<Username>{_e(username)}</Username><Password>{_e(password)}</Password>"
                    "<DelaySeconds>0</DelaySeconds></cwmp:Upload>")


def reboot(ns, cwmp_id, command_key):
    return envelope(ns, cwmp_id,
                    f"<cwmp:Reboot><CommandKey>{_e(command_key)}</CommandKey></cwmp:Reboot>")
