from django.conf import settings


def billing_mode(request):
    """Lets every page say plainly when it is running against the sandbox."""
    return {"billing_sandbox": settings.BILLING_SANDBOX}
