"""Settings for the test suite: sandbox mode, a throwaway database, a fast password hasher."""

import os

os.environ.setdefault("BILLING_SANDBOX", "true")

from billing_portal.settings import *  # noqa: F403
from billing_portal.settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file, not SQLite's shared in-memory database: live-server tests write from several threads,
# and only a file gives them SQLite's real locking (which waits) instead of "table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    os.makedirs(BASE_DIR / "test-artifacts", exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-artifacts" / "test-db.sqlite3")}

# Pages render without `collectstatic`; the hashed, compressed storage of production is tested
# on its own (tests/test_deployment.py).
STATIC_ROOT = BASE_DIR / "test-artifacts" / "static"
os.makedirs(STATIC_ROOT, exist_ok=True)
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Seals the per-account credentials the tests store; a throwaway key, never a real one.
CREDENTIALS_ENCRYPTION_KEYS = ["7B0lY0t6f0Qf3n0cZJt6xwVwS1hJrjS7dqG8fQn7Pn8="]
