"""Behaviours of CPEs nobody here wrote, each a switch, so the ACS can be tested against them.

Defaults describe a well-behaved Yealink phone. Seen in independently written TR-069 clients
(TR-098 gateways, other vendors' phones): no MAC in the Inform, no SetParameterAttributes, no
CPU/memory parameters, a session that breaks off on a read, Downloads fetched without the
credentials the ACS gave, diagnostics that never report back, connection requests that take
only Basic.
"""

from dataclasses import dataclass, fields

from app.device_ops.simulator import vendor


@dataclass(frozen=True)
class Quirks:
    no_mac_in_inform: bool = False  # no *.MACAddress in the Inform; the serial is no MAC either
    no_mac_parameter: bool = False  # ... and the data model has no MAC parameter at all
    no_attributes: bool = False  # SetParameterAttributes answers fault 9000
    no_metrics: bool = False  # no CPU/memory parameters: reading them faults 9005
    silent_on_metrics: bool = False  # a read of CPU/memory breaks the session off, unanswered
    ignore_download_credentials: bool = False  # Downloads are fetched without credentials
    never_complete_diagnostics: bool = False  # DiagnosticsState stays Requested, no event 8
    cr_basic: bool = False  # the connection-request listener takes Basic only, not Digest
    no_vendor_extensions: bool = False  # no Yealink vendor parameters or file types (9005/9003)

    def __post_init__(self):
        if self.no_mac_parameter:  # no MAC anywhere, so none in the Inform either
            object.__setattr__(self, "no_mac_in_inform", True)

    @property
    def dropped(self):
        """Parameter names (relative to the root) the data model does not have."""
        names = []
        if self.no_metrics:
            names += ["DeviceInfo.ProcessStatus.CPUUsage", "DeviceInfo.MemoryStatus.Total",
                      "DeviceInfo.MemoryStatus.Free"]
        if self.no_mac_parameter:
            names += ["Ethernet.Interface.1.MACAddress",
                      "LANDevice.1.LANEthernetInterfaceConfig.1.MACAddress"]
        if self.no_vendor_extensions:
            names += vendor.relative_names()
        return names


NAMES = [f.name.replace("_", "-") for f in fields(Quirks)]


def from_names(names):
    """Quirks from CLI names such as ``no-mac-in-inform``; ValueError for an unknown one."""
    chosen = {}
    for name in names or ():
        if name not in NAMES:
            raise ValueError(f"unknown quirk {name!r}; choose from {', '.join(NAMES)}")
        chosen[name.replace("-", "_")] = True
    return Quirks(**chosen)


def add_argument(parser):
    parser.add_argument("--quirk", action="append", default=[], choices=NAMES,
                        help="behave like a CPE with this deviation (repeatable)")
