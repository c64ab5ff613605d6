"""The cron commands as cron runs them: `python manage.py …` in a process of its own, against the
sandbox. A run that could not do its job exits non-zero (so cron and systemd notice); a run that
did prints nothing on stderr (cron mails whatever a job prints)."""

import os
import shutil
import subprocess
import sys

import pytest
import requests

from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN
from tests.sandbox_process import ROOT

COMMANDS = ("refresh_topups", "check_balances", "reconcile_invoices")
# The Cloudflare endpoint each command reads.
READS = {"refresh_topups": "status", "check_balances": "balance", "reconcile_invoices": "invoices"}

SETUP = """
from accounts.models import CloudflareAccount
from topups.models import TopUp
from django.contrib.auth import get_user_model
account = CloudflareAccount.objects.create(
    name="Acme", account_id="{account_id}", low_balance_alert_cents=2000
)
payer = get_user_model().objects.create_user(username="payer", password="payer-pw-123")
TopUp.objects.create(account=account, created_by=payer, amount_cents=5000,
    state="processing", payment_intent_id="{payment_intent_id}")
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database with the schema, made once: each test copies it."""
    database = tmp_path_factory.mktemp("cron") / "migrated.sqlite3"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "BILLING_SANDBOX": "true", "DATABASE_URL": f"sqlite:///{database}"},
        check=True,
    )
    return database


@pytest.fixture
def site(sandbox, migrated, tmp_path) -> dict:
    """The environment of a cron job: an account with a low-balance alert (not due: its balance
    is well above) and a processing top-up, against the sandbox. Only what a deploy sets: nothing
    of the test run's own."""
    database = tmp_path / "db.sqlite3"
    shutil.copy(migrated, database)
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "BILLING_SANDBOX": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "CLOUDFLARE_BASE_URL": sandbox.api_url,
        "CLOUDFLARE_API_TOKEN": SANDBOX_TOKEN,
    }
    sandbox.control("POST", "balance", {"account_id": DEMO_ACCOUNT_ID, "balance": 50_000})
    created = requests.post(
        f"{sandbox.api_url}/accounts/{DEMO_ACCOUNT_ID}/ai-gateway/billing/topup",
        json={"amount": 5000},
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
        timeout=10,
    ).json()["result"]
    setup = SETUP.format(account_id=DEMO_ACCOUNT_ID, payment_intent_id=created["payment_intent_id"])
    manage(environment, "shell", "-c", setup).check_returncode()
    return environment


def manage(environment: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_run_that_did_its_job_exits_0_and_prints_nothing_on_stderr(site, sandbox, command):
    run = manage(site, command)

    assert (run.returncode, run.stderr) == (0, ""), run.stdout
    assert sandbox.requests(READS[command]), "Cloudflare was asked"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_run_cloudflare_did_not_answer_exits_non_zero_after_its_summary(site, sandbox, command):
    sandbox.fault(READS[command], "500", count=1000)

    run = manage(site, command)

    assert run.returncode != 0, (run.stdout, run.stderr)
    assert run.stdout.strip(), "the summary is still printed"
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: "), run.stderr
    assert last.endswith("the next run tries again."), run.stderr


SPEND_THE_BUDGET = """
from django.conf import settings
from accounts.budget import DatabaseBudget, credential_fingerprint
from cloudflare_client import Credentials
credentials = Credentials(api_token=settings.CLOUDFLARE_API_TOKEN)
DatabaseBudget(credential_fingerprint(credentials, settings.CLOUDFLARE_BASE_URL)).admit(
    moves_money=False
)
"""


@pytest.mark.parametrize("command", COMMANDS)
def test_a_run_whose_api_budget_is_spent_exits_non_zero(site, sandbox, command):
    # Room for one read a day, which another job has just taken.
    site = {
        **site,
        "CLOUDFLARE_API_BUDGET": "101",
        "CLOUDFLARE_API_BUDGET_RESERVE": "100",
        "CLOUDFLARE_API_BUDGET_WINDOW": "86400",
    }
    manage(site, "shell", "-c", SPEND_THE_BUDGET).check_returncode()

    run = manage(site, command)

    assert run.returncode != 0, (run.stdout, run.stderr)
    assert not sandbox.requests(READS[command])
    assert "budget" in run.stderr, run.stderr
