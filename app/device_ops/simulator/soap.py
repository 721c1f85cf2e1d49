"""The simulated phone's side of CWMP's SOAP envelopes: what it builds and how it reads the ACS's.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from app.device_ops.simulator.model import SERVER_FAULTS

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DEFAULT_NS = "urn:dslforum-org:cwmp-1-2"
SOAP_CONTENT_TYPE = 'text/xml; charset="utf-8"'


class SessionError(Exception):  # the session cannot go on (sim_phone.py ends it)
    pass


# --- building and reading envelopes ---------------------------------------------------------------
# Tags carry literal prefixes instead of {uri} names: ElementTree's prefix registry is global and
# each phone may use another cwmp namespace, so every envelope declares its own.


def sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def envelope(ns, cwmp_id, method):
    root = ET.Element("soap-env:Envelope", {
        "xmlns:soap-env": SOAP_ENV, "xmlns:soap-enc": SOAP_ENC, "xmlns:xsd": XSD,
        "xmlns:xsi": XSI, "xmlns:cwmp": ns})
    if cwmp_id is not None:
        header = sub(root, "soap-env:Header")
        sub(header, "cwmp:ID", cwmp_id, **{"soap-env__mustUnderstand": "1"})
    return root, sub(sub(root, "soap-env:Body"), method)


def to_bytes(root):
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return head + ET.tostring(root, encoding="unicode").encode()


def array(parent, tag, item_type, count):
    return sub(parent, tag, **{"soap-enc__arrayType": f"{item_type}[{count}]"})


def fault_envelope(ns, cwmp_id, fault):
    root, el = envelope(ns, cwmp_id, "soap-env:Fault")
    sub(el, "faultcode", "Server" if fault.code in SERVER_FAULTS else "Client")
    sub(el, "faultstring", "CWMP fault")
    detail = sub(sub(el, "detail"), "cwmp:Fault")
    sub(detail, "FaultCode", fault.code)
    sub(detail, "FaultString", fault.message)
    for name, code, message in fault.spv_faults:
        item = sub(detail, "SetParameterValuesFault")
        sub(item, "ParameterName", name)
        sub(item, "FaultCode", code)
        sub(item, "FaultString", message)
    return to_bytes(root)


def _local(tag):
    return tag.rpartition("}")[2]


def _ns(tag):
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def child(el, name):
    return next((c for c in el if _local(c.tag) == name), None)


def text(el, name, default=""):
    c = child(el, name)
    return default if c is None else (c.text or "").strip()


def flag(el, name):
    return text(el, name, "0").lower() in ("1", "true")


@dataclass
class _Message:
    name: str  # local name of the body element, "Fault" for a SOAP fault
    ns: str
    cwmp_id: str | None
    el: ET.Element
    hold_requests: bool = False
    fault: tuple | None = None


def parse(data):
    """The ACS's envelope -> _Message; SessionError if it is not one."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise SessionError(f"malformed ACS message: {exc}") from None
    header, body = child(root, "Header"), child(root, "Body")
    if _local(root.tag) != "Envelope" or body is None or len(body) == 0:
        raise SessionError("malformed ACS message: not a SOAP envelope with a body")
    el = body[0]
    msg = _Message(_local(el.tag), _ns(el.tag), None, el)
    if header is not None:
        for h in header:
            if _local(h.tag) == "ID":
                msg.cwmp_id = (h.text or "").strip()
                msg.ns = msg.ns if msg.ns and msg.ns != SOAP_ENV else _ns(h.tag)
            elif _local(h.tag) == "HoldRequests":
                msg.hold_requests = (h.text or "").strip().lower() in ("1", "true")
    if msg.name == "Fault":
        detail = child(el, "detail")
        cwmp = child(detail, "Fault") if detail is not None else None
        code = text(cwmp, "FaultCode") if cwmp is not None else text(el, "faultcode")
        message = text(cwmp, "FaultString") if cwmp is not None else text(el, "faultstring")
        msg.fault = (int(code) if code.isdigit() else code, message)
    return msg


def strings(el):
    return [(c.text or "").strip() for c in (el if el is not None else [])]


def xsi_type(value_el):
    for key, val in value_el.attrib.items():
        if _local(key) == "type":
            return "xsd:" + val.rpartition(":")[2]  # whatever prefix the ACS bound to XSD
    return None


def values(parent, plist):
    out = array(parent, "ParameterList", "cwmp:ParameterValueStruct", len(plist))
    for name, ptype, value in plist:
        item = sub(out, "ParameterValueStruct")
        sub(item, "Name", name)
        sub(item, "Value", value, xsi__type=ptype)


def event_pairs(events):
    """[(code, command key)] from codes or pairs."""
    return [(e, "") if isinstance(e, str) else (e[0], e[1]) for e in events]


def event_order(event):
    code = event[0]
    if code.startswith("X "):  # vendor events ("X <OUI> <event>") after the standard ones
        return (2, 0)
    return (1, 0) if code.startswith("M ") else (0, int(code.split(" ")[0]))


def full_ns(namespace):
    return namespace if namespace.startswith("urn:") else f"urn:dslforum-org:{namespace}"
