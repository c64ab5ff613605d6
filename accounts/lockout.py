"""django-axes' hooks: the address a sign-in counts against (AXES_CLIENT_IP_CALLABLE), and the
answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): 429 and a page that says how long to wait.
django-axes logs the lockout itself, at WARNING."""

import ipaddress

from django.conf import settings
from django.shortcuts import render


def sign_in_client_address(request) -> str:
    """Each of the PROXY_COUNT proxies in front appends to X-Forwarded-For the address it was
    reached from, and the nearest one is REMOTE_ADDR; so the client is the PROXY_COUNT-th entry
    from the right, and whatever lies left of it the client wrote itself."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not settings.PROXY_COUNT:
        return remote_addr
    entries = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(entries) < settings.PROXY_COUNT:
        # Not through every proxy, so none of the header is theirs.
        return remote_addr
    try:
        return str(ipaddress.ip_address(entries[-settings.PROXY_COUNT].strip()))
    except ValueError:
        return remote_addr


def sign_in_locked_out(request, response, credentials):
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
