"""The answer to a locked-out sign-in (django-axes' AXES_LOCKOUT_CALLABLE): 429 and a page that
says how long to wait. django-axes logs the lockout itself, at WARNING."""

from django.conf import settings
from django.shortcuts import render


def sign_in_locked_out(request, response, credentials):
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
