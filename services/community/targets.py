"""Webhook targets and server-side request forgery. A target is an http(s) URL whose host resolves
only to public addresses: loopback, link-local, private, shared, multicast, reserved and unspecified
addresses are refused unless an admin allowed their network (HANGAR_WEBHOOK_ALLOWED_NETWORKS).
Every delivery resolves the host again, checks every address, and connects to the checked address
itself (the host name goes in `Host` and TLS SNI), so a DNS answer that changes between the check
and the connection cannot point the request elsewhere. Redirects are never followed."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from hangar_common.errors import BadRequest

MAX_URL = 2048


class TargetRefused(BadRequest):
    code = "WebhookTargetRefused"


@dataclass(frozen=True)
class Pinned:
    url: str            # the target with its host replaced by the checked address
    host_header: str    # what the receiver sees as Host
    sni: str            # TLS server name (https only)


def parse(url: str):
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise BadRequest(f"A webhook URL is an http(s) URL of at most {MAX_URL} characters", code="InvalidWebhookUrl")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadRequest("Invalid webhook URL", code="InvalidWebhookUrl") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise BadRequest("A webhook URL is http(s)://host[:port]/path, without credentials", code="InvalidWebhookUrl")
    if any(ord(c) < 33 for c in url):
        raise BadRequest("A webhook URL has no spaces or control characters", code="InvalidWebhookUrl")
    return parts, port or (443 if parts.scheme == "https" else 80)


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified
                or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED))


_SHARED = ipaddress.ip_network("100.64.0.0/10")   # carrier-grade NAT (not "private" to Python 3.11)


def allowed(address: str, networks: tuple) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if _public(ip):
        return True
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return any(ip in net or (mapped is not None and mapped in net) for net in networks)


async def resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise TargetRefused(f"The webhook host {host} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check(url: str, networks: tuple) -> Pinned:
    """The URL to request, pinned to an address that was checked; TargetRefused otherwise."""
    parts, port = parse(url)
    host = parts.hostname
    addresses = await resolve(host, port)
    refused = [a for a in addresses if not allowed(a, networks)]
    if refused or not addresses:
        raise TargetRefused(f"The webhook target {host} resolves to an address that is not allowed "
                            "(loopback, link-local or private network)")
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{port}"
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = parts.hostname if default_port else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:
        host_header = f"[{parts.hostname}]" + ("" if default_port else f":{port}")
    return Pinned(urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, host)
