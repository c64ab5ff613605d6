"""The cron commands as cron runs them: `python manage.py …` in a process of its own, against the
sandbox. A run that could not do its job exits non-zero (so cron and systemd notice); a run that
did prints nothing on stderr (cron mails whatever a job prints). The crontab example and the
systemd units in deploy/ run as written, their paths moved to this checkout."""

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import requests

from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN
from tests.sandbox_process import ROOT

COMMANDS = ("refresh_topups", "check_balances", "reconcile_invoices")
# Talks to the mail server and the receivers, never to Cloudflare (tests/notifications).
SENDS = "send_notifications"
DEPLOY = ROOT / "deploy"
CRON_UNITS = sorted((DEPLOY / "systemd").glob("billing-portal-*.service"))
# The Cloudflare endpoint each command reads.
READS = {"refresh_topups": "status", "check_balances": "balance", "reconcile_invoices": "invoices"}

SETUP = """
from accounts.models import CloudflareAccount
from notifications.models import BalanceThreshold
from topups.models import TopUp
from django.contrib.auth import get_user_model
account = CloudflareAccount.objects.create(name="Acme", account_id="{account_id}")
BalanceThreshold.objects.create(account=account, cents=2000)
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
    """The environment of a cron job: an account with a balance threshold (not due: its balance
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


# --- deploy/: the crontab example and the systemd units -----------------------------------------


def in_this_checkout(text: str, env_file) -> str:
    """The deploy files' paths moved here: the venv this test runs in, this checkout, `env_file`."""
    text = text.replace("/srv/billing-portal/.venv", sys.prefix)
    text = text.replace("/etc/billing-portal/env", str(env_file))
    return text.replace("/srv/billing-portal", str(ROOT))


def environment_file(site: dict, path):
    """The site's settings as /etc/billing-portal/env holds them, with a value that only survives
    sh quoted as the crontab's header says (single quotes)."""
    settings = {k: v for k, v in site.items() if k not in ("PATH", "HOME")}
    settings["DJANGO_SECRET_KEY"] = 'k$x`y"z&(w) v'
    path.write_text("".join(f"{name}='{value}'\n" for name, value in settings.items()))
    return path


def crontab_jobs() -> list[tuple[list[str], str]]:
    """(the five time fields, the command) of each job in deploy/crontab.example."""
    jobs = []
    for line in (DEPLOY / "crontab.example").read_text().splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^[A-Z]+=", line):
            continue
        *fields, command = line.split(maxsplit=5)
        jobs.append((fields, command))
    return jobs


def test_the_crontab_example_runs_each_command_on_its_schedule():
    schedules = {re.search(r"manage\.py (\w+)", c).group(1): f for f, c in crontab_jobs()}
    assert schedules == {
        "send_notifications": ["*", "*", "*", "*", "*"],
        "refresh_topups": ["*/5", "*", "*", "*", "*"],
        "check_balances": ["*/15", "*", "*", "*", "*"],
        "reconcile_invoices": ["7", "*", "*", "*", "*"],
    }


def test_the_crontab_example_s_jobs_run_as_written_silent_when_they_did_their_job(
    site, sandbox, tmp_path
):
    env_file = environment_file(site, tmp_path / "env")
    for _, command in crontab_jobs():
        # cron's own environment: nothing of the app's but what the line itself loads.
        run = subprocess.run(
            ["/bin/sh", "-c", in_this_checkout(command, env_file)],
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (run.returncode, run.stdout, run.stderr) == (0, "", ""), command
    assert sandbox.requests("status")
    assert sandbox.requests("balance")


def test_a_crontab_job_that_could_not_do_its_job_says_so_and_exits_1(site, sandbox, tmp_path):
    env_file = environment_file(site, tmp_path / "env")
    sandbox.fault("balance", "500", count=1000)
    (command,) = [c for _, c in crontab_jobs() if "check_balances" in c]

    run = subprocess.run(
        ["/bin/sh", "-c", in_this_checkout(command, env_file)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 1
    assert run.stdout == ""  # the summary went to /dev/null; what cron mails is the reason
    assert run.stderr.strip().splitlines()[-1].startswith("CommandError: 1 account(s) not read")


def unit_settings(path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if re.match(r"^\w+=", line)
    )


def test_there_is_a_timer_for_each_cron_unit_and_a_unit_for_each_command():
    commands = {unit_settings(unit)["ExecStart"].split()[-1] for unit in CRON_UNITS}
    assert commands == {*COMMANDS, SENDS}
    for unit in CRON_UNITS:
        assert unit.with_suffix(".timer").exists(), unit.name
        assert unit_settings(unit)["Type"] == "oneshot"


@pytest.mark.parametrize("unit", CRON_UNITS, ids=lambda unit: unit.stem)
def test_systemd_accepts_the_cron_units(tmp_path, unit):
    copies = []
    for path in (unit, unit.with_suffix(".timer")):
        copies.append(tmp_path / path.name)
        copies[-1].write_text(in_this_checkout(path.read_text(), tmp_path / "env"))
    (tmp_path / "env").write_text("")
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian's systemd) checks the units"

    result = subprocess.run(
        [analyze, "verify", *map(str, copies)], capture_output=True, text=True, timeout=60
    )

    # Unknown or misspelt keys are only warnings: any output fails too.
    assert (result.returncode, result.stderr + result.stdout) == (0, "")


@pytest.mark.parametrize("unit", CRON_UNITS, ids=lambda unit: unit.stem)
def test_the_cron_units_run_as_written(site, sandbox, tmp_path, unit):
    """What systemd does with the unit: its ExecStart, in its WorkingDirectory, with only its
    EnvironmentFile's variables (read here as systemd reads a single-quoted value)."""
    env_file = environment_file(site, tmp_path / "env")
    service = unit_settings(unit)
    environment = {
        name: value.strip("'")
        for name, value in (
            line.split("=", 1) for line in env_file.read_text().splitlines() if line
        )
    }

    run = subprocess.run(
        shlex.split(in_this_checkout(service["ExecStart"], env_file)),
        cwd=in_this_checkout(service["WorkingDirectory"], env_file),
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (run.returncode, run.stderr) == (0, ""), run.stdout
    assert in_this_checkout(service["EnvironmentFile"], env_file) == str(env_file)
