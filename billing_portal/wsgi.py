"""WSGI entry point (gunicorn billing_portal.wsgi).

gunicorn does not run Django's system checks, so the billing checks run here: a live deploy with
missing or contradictory settings refuses to start instead of failing on the first payment.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_portal.settings")

application = get_wsgi_application()

from accounts.checks import raise_on_configuration_errors  # noqa: E402

raise_on_configuration_errors()
