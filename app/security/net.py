"""Outbound connections to hosts a tenant admin typed in (the IMAP server of a mailbox): no SSRF.

A tenant admin may name any host and port; without a check the portal would connect to its own
loopback services, the cloud metadata address (169.254.169.254) or the private network, and echo
what answered. So (ASVS 12.6.1, 5.2.6):

- the host is resolved once and *every* address it resolves to must be public: loopback, private,
  link-local, shared, multicast, reserved and unspecified addresses are refused, IPv4 written as IPv6
  (``::ffff:10.0.0.1``, 6to4, Teredo) included;
- only the IMAP ports (143, 993) are allowed;
- the connection goes to the vetted address itself (never resolved again, so a DNS answer that changes
  in between cannot point it elsewhere), while TLS still checks the certificate for the host name;
- the operator may allow hosts or networks anyway (``MAILBOX_ALLOWED_HOSTS``: a test server, an
  on-premises mail server), on any port.
"""

from __future__ import annotations

import imaplib
import ipaddress
import socket
import ssl
from dataclasses import dataclass

IMAP_PORTS = frozenset({143, 993})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressNotAllowed(Exception):
    """The host resolves to an address (or uses a port) that outbound connections may not reach."""


class HostNotFound(OSError):
    """The host name does not resolve."""


@dataclass(frozen=True)
class VettedTarget:
    host: str  # as given (the TLS server name)
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, each one allowed


def _strip_brackets(host: str) -> str:
    host = (host or "").strip()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if ip in ipaddress.ip_network("::/96") and int(ip) > 1:  # deprecated IPv4-compatible form
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """Whether an address is on the public internet (and so is any IPv4 address written inside it)."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not is_public_address(embedded):
        return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified
    )


def _allowed(host: str, ip: IPAddress, allowed: list[str]) -> bool:
    """Whether the operator allowed this host name or this address (``MAILBOX_ALLOWED_HOSTS``)."""
    for entry in allowed:
        entry = _strip_brackets(entry)
        if entry.lower() == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        candidates = [ip, _embedded_ipv4(ip)]
        if any(c is not None and c.version == network.version and c in network for c in candidates):
            return True
    return False


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host`` (a name or a literal address); HostNotFound if there is none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:  # (ValueError: a NUL in the name)
        raise HostNotFound(str(exc)) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(host)
    return addresses


def vet_target(host: str, port: int, *, allowed: list[str], ports=IMAP_PORTS) -> VettedTarget:
    """Resolve ``host`` and check every address and the port, before any connection is made.

    Raises AddressNotAllowed, or HostNotFound when the name does not resolve."""
    host = _strip_brackets(host)
    if not host or not isinstance(port, int) or not 0 < port < 65536:
        raise AddressNotAllowed(host)
    addresses = resolve(host, port)
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if _allowed(host, ip, allowed):
            continue
        if not is_public_address(ip) or port not in ports:
            raise AddressNotAllowed(host)
    return VettedTarget(host=host, port=port, addresses=tuple(addresses))


class _PinnedConnection:
    """imaplib connects to ``self.host``; these connect to the vetted address instead, keeping
    ``self.host`` for the TLS server name and certificate check (here and in STARTTLS)."""

    _address: str

    def _plain_socket(self, timeout):
        return socket.create_connection((self._address, self.port), timeout)


class PinnedIMAP4(_PinnedConnection, imaplib.IMAP4):
    def __init__(self, host: str, port: int, address: str, timeout: float | None = None):
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return self._plain_socket(timeout)


class PinnedIMAP4_SSL(_PinnedConnection, imaplib.IMAP4_SSL):
    def __init__(self, host: str, port: int, address: str, ssl_context: ssl.SSLContext, timeout: float | None = None):
        self._address = address
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(self._plain_socket(timeout), server_hostname=self.host)


def connect_imap(target: VettedTarget, *, security: str, context: ssl.SSLContext, timeout: float) -> imaplib.IMAP4:
    """An IMAP connection to the first vetted address that answers (STARTTLS done if asked)."""
    last: Exception | None = None
    for address in target.addresses:
        try:
            if security == "ssl":
                return PinnedIMAP4_SSL(target.host, target.port, address, context, timeout=timeout)
            connection = PinnedIMAP4(target.host, target.port, address, timeout=timeout)
        except OSError as exc:
            last = exc
            continue
        if security == "starttls":
            connection.starttls(ssl_context=context)
        return connection
    raise last or OSError("no address")
