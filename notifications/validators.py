"""Where notifications may be sent. In live mode a receiver is an https URL on a public address:
a webhook must not become a way to make this server call into its own network (SSRF). The
sandbox's receivers are on loopback over http, so sandbox mode allows those."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

NOT_HTTPS = "The address must start with https://."
PRIVATE = (
    "The address must be reachable on the internet: {host} is a private, loopback or reserved "
    "address."
)
UNRESOLVABLE = "{host} could not be found (DNS)."


def validate_receiver_url(url: str, *, resolve: bool = True) -> None:
    """Raise ValidationError unless `url` may receive notifications. With `resolve`, the host's
    addresses are looked up and each must be public (checked again before every send, since a
    name can start pointing elsewhere)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if settings.BILLING_SANDBOX:
        if parts.scheme not in ("http", "https") or not host:
            raise ValidationError("Enter an http:// or https:// address.")
        return
    if parts.scheme != "https" or not host:
        raise ValidationError(NOT_HTTPS)
    for address in _addresses(host) if resolve else _literal(host):
        if not address.is_global:
            raise ValidationError(PRIVATE.format(host=host))


def _literal(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [] if host != "localhost" else [ipaddress.ip_address("127.0.0.1")]


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    literal = _literal(host)
    if literal:
        return literal
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise ValidationError(UNRESOLVABLE.format(host=host)) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
