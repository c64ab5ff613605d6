"""Settings for the test suite: sandbox mode, a throwaway database, a fast password hasher."""

import os

os.environ.setdefault("BILLING_SANDBOX", "true")

from billing_portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
