"""Where a fetch may connect: decided on the resolved addresses, before connecting.

- Link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, 100.100.100.200,
  fd00:ec2::254, also inside IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96,
  64:ff9b:1::/48), SIIT, 6to4 and Teredo IPv6 forms) and metadata host names (not
  even looked up) are never fetched.
- A redirect never moves from a public address to a private or loopback one. An
  editor may still list an intranet or loopback URL directly, and a redirect from a
  private address to another private one is followed.

A host name is resolved once per client (:class:`Lookups`); the connection goes to
one of the addresses that were checked, so DNS cannot answer differently in between.

Two module-level hooks stand for the outside world, and tests replace them:

- ``resolve(host, port) -> [address, ...]`` is DNS (``socket.getaddrinfo``); a test
  maps its own host names to the addresses it wants the policy to see.
- ``counted_as_public`` lists networks to count as public (empty in real runs): a
  test serving a "public" feed on a loopback address lists that address here.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

from composer.support.http import FetchError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)
NEVER = tuple(
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128")
)
# IPv6 forms that carry an IPv4 address in their last 32 bits: NAT64 (well-known and
# local-use prefixes) and SIIT's IPv4-translated addresses
NAT64 = tuple(
    ipaddress.ip_network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
)
METADATA = "link-local/cloud-metadata address refused"
DOWNWARD = "redirect from a public address to a private one refused"


class Refused(FetchError):
    """The network policy refused a connection (raised before connecting)."""


def getaddrinfo(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


resolve = getaddrinfo
counted_as_public: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []


def embedded(address: Address) -> Address:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, SIIT,
    6to4, a Teredo client), else itself."""
    if address.version == 6:
        if address.ipv4_mapped or address.sixtofour:
            return address.ipv4_mapped or address.sixtofour
        if address.teredo:
            return address.teredo[1]
        nat64 = any(address in net for net in NAT64)
        if nat64 or (int(address) >> 32 == 0 and int(address) > 1):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _address(text: str) -> Address:
    return ipaddress.ip_address(text.split("%", 1)[0])  # no IPv6 zone (fe80::1%eth0)


LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _forms(address: Address) -> set[Address]:
    """``address`` and each IPv4 address it may carry: for the local-use NAT64 prefix,
    both in its last 32 bits and where RFC 6052 puts it after a /48 (bits 48-63, 72-87)."""
    forms = {address, embedded(address)}
    if address.version == 6 and address in LOCAL_NAT64:
        bits = int(address)
        high, low = (bits >> 64) & 0xFFFF, (bits >> 40) & 0xFFFF
        forms.add(ipaddress.IPv4Address((high << 16) | low))
    return forms


def is_never(text: str) -> bool:
    """A link-local or cloud-metadata address, in any of its forms."""
    return any(
        a in net for a in _forms(_address(text)) for net in NEVER if a.version == net.version
    )


def is_public(text: str) -> bool:
    """Globally routable (or listed in ``counted_as_public``), and not a metadata address."""
    if is_never(text):
        return False
    address = embedded(_address(text))
    listed = any(address in net for net in counted_as_public if net.version == address.version)
    site_local = address.version == 6 and address.is_site_local  # fec0::/10, deprecated
    return listed or (address.is_global and not site_local)


def vet_name(host: str) -> None:
    """Refuse a metadata host name before it is looked up."""
    if host.lower().rstrip(".") in METADATA_NAMES:
        raise Refused(f"{METADATA}: host name {host}")


def vet(host: str, addresses: list[str]) -> list[str]:
    """``addresses`` when ``host`` may be fetched at all; raises :class:`Refused` if not."""
    vet_name(host)
    for text in addresses:
        if is_never(text):
            shown = "" if text == host else f"{host} -> "
            raise Refused(f"{METADATA}: {shown}{text}")
    return addresses


def vet_redirect(from_public: bool, host: str, addresses: list[str]) -> None:
    """Refuse a hop from a public address to a host with any non-public address."""
    if from_public:
        for text in addresses:
            if not is_public(text):
                shown = "" if text == host else f"{host} -> "
                raise Refused(f"{DOWNWARD}: {shown}{text}")


def is_literal(host: str) -> bool:
    try:
        _address(host)
    except ValueError:
        return False
    return True


class Lookups:
    """Vetted addresses per host name, resolved once for the life of one client."""

    def __init__(self) -> None:
        self._known: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def vetted(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``; raises Refused, or OSError from DNS."""
        with self._lock:
            known = self._known.get(host)
        if known is None:
            vet_name(host)  # no DNS query for metadata.google.internal either
            found = [host] if is_literal(host) else resolve(host, port)
            if not found:
                raise OSError(f"{host}: no address")
            with self._lock:
                known = self._known.setdefault(host, list(found))
        return vet(host, known)
