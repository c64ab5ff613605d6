"""ASGI entry point; runs the same start-up configuration checks as wsgi.py."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_portal.settings")

application = get_asgi_application()

from accounts.checks import raise_on_configuration_errors  # noqa: E402

raise_on_configuration_errors()
