"""This machine's own interface addresses, for the demo server's banner.

Read from the kernel (ioctl SIOCGIFADDR for IPv4, /proc/net/if_inet6 for IPv6); nothing
is sent anywhere, not even a name lookup.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

_SIOCGIFADDR = 0x8915


def ipv4_addresses() -> list[str]:
    """The IPv4 address of each interface that has one; empty where that cannot be read."""
    try:
        import fcntl

        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            request = struct.pack("256s", name.encode("ascii", "replace")[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # down, or no IPv4 address
            address = socket.inet_ntoa(answer[20:24])
            if address not in found:
                found.append(address)
    return found


def ipv6_addresses() -> list[str]:
    """Global and unique-local IPv6 addresses (link-local ones need a scope; left out)."""
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError:
        return []
    found: list[str] = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or len(fields[0]) != 32:
            continue
        try:
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
        except ValueError:
            continue
        if not address.is_link_local and str(address) not in found:
            found.append(str(address))
    return found


def reachable_addresses(host: str) -> list[str]:
    """Addresses students can use for a server bound to `host`, loopback last."""
    if host in ("0.0.0.0", ""):
        found = ipv4_addresses()
    elif host == "::":
        found = ipv4_addresses() + ipv6_addresses()
    else:
        return [host]
    return sorted(found, key=lambda a: ipaddress.ip_address(a).is_loopback) or [
        "127.0.0.1" if host != "::" else "::1"
    ]
