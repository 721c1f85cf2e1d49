"""Made-up TR-069 IPPing / TraceRoute results for the simulated phone: a host is "resolved"
without DNS and the results are generated, nothing is sent on the network.

Pure functions of their arguments (and the phone's random generator); sim_model.py writes the
results into the parameter tree."""

import ipaddress
import re
import zlib

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$")
_NEVER_RESOLVES = ("invalid", "test", "example", "local")  # RFC 6761 / 2606 special-use names


def fake_resolve(host):
    """An address for host without DNS: IP literals and localhost as such, plausible names get a
    stable address in 198.51.100.0/24, anything else (e.g. no-such-host.invalid) None."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return "127.0.0.1"
    if not _HOSTNAME.match(host) or host.rsplit(".", 1)[-1] in _NEVER_RESOLVES:
        return None
    return f"198.51.100.{zlib.crc32(host.encode()) % 254 + 1}"


def unreachable(address):
    """192.0.2.0/24 (TEST-NET-1) stands in for a host that never answers."""
    return address.startswith("192.0.2.")


def rtt(rng, address):
    loopback = address.startswith("127.") or address == "::1"
    return rng.randint(0, 1) if loopback else rng.randint(2, 9)


def ping(rng, address, count):
    """The IPPing result parameters {name: value} for count echo requests to address."""
    if address is None:
        return dict(DiagnosticsState="Error_CannotResolveHostName", SuccessCount=0,
                    FailureCount=0, AverageResponseTime=0, MinimumResponseTime=0,
                    MaximumResponseTime=0)
    if unreachable(address):
        return dict(DiagnosticsState="Complete", SuccessCount=0, FailureCount=count,
                    AverageResponseTime=0, MinimumResponseTime=0, MaximumResponseTime=0)
    rtts = [rtt(rng, address) for _ in range(count)]
    return dict(DiagnosticsState="Complete", SuccessCount=count, FailureCount=0,
                AverageResponseTime=round(sum(rtts) / count), MinimumResponseTime=min(rtts),
                MaximumResponseTime=max(rtts))


def traceroute(rng, host, address, gateway, tries):
    """(hops [(host, address, [round-trip ms per try])], result parameters {name: value}) for a
    TraceRoute from behind gateway to host (resolved to address, None if it did not resolve)."""
    if address is None:
        return [], dict(DiagnosticsState="Error_CannotResolveHostName", ResponseTime=0,
                        RouteHopsNumberOfEntries=0)
    if address.startswith("127."):
        route = [(host, address)]
    elif unreachable(address):
        route = [(gateway, gateway)]
    else:
        route = [(gateway, gateway), ("100.64.0.1", "100.64.0.1"), (host, address)]
    hops, last = [], []
    for i, (hop_host, hop_addr) in enumerate(route, 1):
        last = [rtt(rng, hop_addr) + i for _ in range(tries)]
        hops.append((hop_host, hop_addr, last))
    state = "Error_MaxHopCountExceeded" if unreachable(address) else "Complete"
    return hops, dict(DiagnosticsState=state, RouteHopsNumberOfEntries=len(hops),
                      ResponseTime=0 if unreachable(address) else round(sum(last) / len(last)))
