"""`/healthz` for load balancers: 200 when this instance can reach its database, else 503.
No session, no redirect to sign-in, nothing cached, and whatever the Host header: a load
balancer probes each instance by its address, which is no name in ALLOWED_HOSTS."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


class HealthzMiddleware:
    """Answers `/healthz` before any middleware that checks the Host header (CommonMiddleware,
    CSRF): every other path still refuses a host not in ALLOWED_HOSTS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
