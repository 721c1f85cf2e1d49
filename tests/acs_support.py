"""Helpers for the ACS tests: quota for an enterprise, its device credentials, and Inform
envelopes written by hand (for what the fleet simulator would never send)."""

import base64
import datetime
import re

from app.device_ops import auth
from app.models import Enterprise
from app.orders.rules import today

from .helpers import new_order, new_package

NS = "urn:dslforum-org:cwmp-1-2"


def give_quota(session, enterprise_id, devices=100):
    """An order in service since yesterday for ``devices`` devices."""
    new_order(session, enterprise_id, package=new_package(session, devices),
              effective_on=today() - datetime.timedelta(days=1))
    session.commit()


def credentials(session, enterprise_id):
    enterprise = session.get(Enterprise, enterprise_id)
    password = auth.ensure_acs_password(session, enterprise)
    session.commit()
    return enterprise.acs_username, password


def basic(username, password):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def inform(mac, events=("2 PERIODIC",), ns=NS, cwmp_id="1", params=None, root="Device",
           serial=None, oui="001565", mac_param=True):
    """An Inform of a device with this MAC (in the TR-181 MAC parameter unless ``mac_param``
    is False) whose DeviceId is OUI ``oui`` and serial ``serial`` (default: SN + the MAC)."""
    serial = f"SN{re.sub(r'[^0-9A-Za-z]', '', mac)}" if serial is None else serial
    values = {f"{root}.DeviceInfo.SoftwareVersion": "96.86.0.70",
              f"{root}.ManagementServer.ConnectionRequestURL": "http://127.0.0.1:9/cr",
              f"{root}.Ethernet.Interface.1.MACAddress": mac,
              f"{root}.IP.Interface.1.IPv4Address.1.IPAddress": "10.1.2.3"}
    if not mac_param:
        del values[f"{root}.Ethernet.Interface.1.MACAddress"]
    values.update(params or {})
    plist = "".join(f"<ParameterValueStruct><Name>{n}</Name><Value>{v}</Value>"
                    "</ParameterValueStruct>" for n, v in values.items())
    ev = "".join(f"<EventStruct><EventCode>{code}</EventCode><CommandKey>{key}</CommandKey>"
                 "</EventStruct>" for code, key in (
                     e if isinstance(e, tuple) else (e, "") for e in events))
    header = f'<cwmp:ID soap:mustUnderstand="1">{cwmp_id}</cwmp:ID>' if cwmp_id else ""
    return (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            f'envelope/" xmlns:cwmp="{ns}"><soap:Header>{header}</soap:Header><soap:Body>'
            "<cwmp:Inform><DeviceId><Manufacturer>Yealink</Manufacturer>"
            f"<OUI>{oui}</OUI><ProductClass>SIP-T54W</ProductClass>"
            f"<SerialNumber>{serial}</SerialNumber></DeviceId>"
            f"<Event>{ev}</Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>"
            "2026-11-26T00:00:00Z</CurrentTime><RetryCount>0</RetryCount><ParameterList>"
            f"{plist}</ParameterList></cwmp:Inform></soap:Body></soap:Envelope>").encode()


def response(name, inner="", ns=NS, cwmp_id="1"):
    """A device's answer to one of our RPCs."""
    return (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            f'envelope/" xmlns:cwmp="{ns}"><soap:Header><cwmp:ID soap:mustUnderstand="1">'
            f"{cwmp_id}</cwmp:ID></soap:Header><soap:Body><cwmp:{name}>{inner}</cwmp:{name}>"
            "</soap:Body></soap:Envelope>").encode()


def gpv_response(values, ns=NS, cwmp_id="1"):
    plist = "".join(f"<ParameterValueStruct><Name>{n}</Name><Value>{v}</Value>"
                    "</ParameterValueStruct>" for n, v in values.items())
    return response("GetParameterValuesResponse", f"<ParameterList>{plist}</ParameterList>",
                    ns, cwmp_id)
