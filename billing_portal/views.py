"""Site-wide answers that belong to no app."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=60 * 60 * 24)
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): nothing, rather
    than a 404 logged for each. The site's own pages name static/favicon.svg (base.html)."""
    return HttpResponse(status=204)
