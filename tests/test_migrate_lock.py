"""Several instances run `make serve` at once, so `migrate` runs at once on one database: the
second waits for the first instead of failing (accounts/management/commands/migrate.py)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="advisory locks are PostgreSQL's; make test-postgres runs this on a throwaway cluster",
)


@pytest.fixture
def fresh_database_url() -> str:
    """A new, empty database on the cluster of DATABASE_URL, dropped afterwards."""
    name = f"migrate_lock_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(DATABASE_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def manage(database_url: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings_test",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_migrates_at_once_on_a_fresh_database_both_succeed(fresh_database_url):
    runs = [manage(fresh_database_url, "migrate", "--noinput") for _ in range(2)]
    outputs = [run.communicate(timeout=100)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], "\n\n".join(outputs)
    plan = manage(fresh_database_url, "showmigrations", "--plan")
    listing = plan.communicate(timeout=60)[0]
    assert plan.returncode == 0, listing
    assert "[X]" in listing
    assert "[ ]" not in listing, listing
