"""The README's backup and restore commands, run exactly as written on a throwaway PostgreSQL:
a dump of a seeded database restored into a new one opens an account's sealed credential with
the same CREDENTIALS_ENCRYPTION_KEY, and says which account another key cannot open."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
KEY = Fernet.generate_key().decode()
TOKEN = "restored-token-" + uuid.uuid4().hex

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="pg_dump and pg_restore: make test-postgres runs this on a throwaway cluster",
)


def readme_blocks() -> list[str]:
    """The shell blocks of the README's *Backup and restore*: the backup, then the restore."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n### Backup and restore\n") :]
    section = section[: section.index("\n## ")]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.fixture
def new_database():
    """Makes empty databases on the cluster of DATABASE_URL (as `createdb` would); drops them."""
    parts = urlsplit(DATABASE_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    made = []

    def make() -> str:
        name = f"restore_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return urlunsplit(parts._replace(path=f"/{name}"))

    yield make
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def run(
    command: list[str], database_url: str, key: str = KEY, **env
) -> subprocess.CompletedProcess:
    """A command in the code's directory with the service's environment, `python` the venv's."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BILLING_"))}
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **clean,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "BILLING_SANDBOX": "true",
            "BILLING_ENV_FILE": "/nonexistent/billing-portal/env",  # deploy/manage: this env only
            "DATABASE_URL": database_url,
            "CREDENTIALS_ENCRYPTION_KEY": key,
            **env,
        },
    )


def manage_shell(code: str, database_url: str, key: str = KEY) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", "shell", "-c", code], database_url, key)


OPEN_CREDENTIAL = (
    "from accounts.cloudflare import credentials_for_account; "
    "from accounts.models import CloudflareAccount; "
    "from cloudflare_client import CloudflareConfigurationError\n"
    "try:\n"
    "    print(credentials_for_account(CloudflareAccount.objects.get(name='Restored')).api_token)\n"
    "except CloudflareConfigurationError as exc:\n"
    "    print(exc)"
)


def test_the_readme_has_a_backup_and_a_restore_block():
    backup, restore = readme_blocks()
    assert "pg_dump" in backup
    assert "pg_restore" in restore


def test_the_readme_commands_restore_a_database_whose_credentials_open_with_the_key(
    new_database, tmp_path
):
    backup_block, restore_block = readme_blocks()
    source = new_database()
    migrated = run([sys.executable, "manage.py", "migrate", "--noinput"], source)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    seeded = manage_shell(
        "from accounts.credentials import seal; from accounts.models import CloudflareAccount; "
        "from cloudflare_client import Credentials; "
        "CloudflareAccount.objects.create(name='Restored', account_id='a' * 32, "
        f"credential='stored', sealed_credential=seal(Credentials(api_token={TOKEN!r})))",
        source,
    )
    assert seeded.returncode == 0, seeded.stderr

    dump = tmp_path / "billing.dump"
    backup = run(["bash", "-e", "-c", backup_block], source, BACKUP=str(dump))
    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_size > 0

    target = new_database()
    restore = run(["bash", "-e", "-c", restore_block], target, BACKUP=str(dump))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "Re-sealed 1 stored credential(s)" in restore.stdout

    opened = manage_shell(OPEN_CREDENTIAL, target)
    assert opened.stdout.splitlines()[-1] == TOKEN, opened.stderr

    # The dump alone is not enough: another key opens nothing, and the check names the account.
    other_key = Fernet.generate_key().decode()
    refused = manage_shell(OPEN_CREDENTIAL, target, key=other_key)
    assert "cannot be opened" in refused.stdout.splitlines()[-1], refused.stderr
    assert TOKEN not in refused.stdout + refused.stderr
    recheck = run([sys.executable, "manage.py", "reseal_credentials"], target, key=other_key)
    assert recheck.returncode != 0
    assert "Restored: This account's stored credential cannot be opened" in recheck.stderr
