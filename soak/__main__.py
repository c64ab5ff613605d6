"""`make soak`: a busy team for SOAK_SECONDS (default 600) on PostgreSQL behind gunicorn (3 workers
x 4 threads), against the sandbox with 100 ms of latency and 3 s of settle time, with a fault every
~20 s; then the cron commands, then the invariants. Prints a table and writes bench/soak.json.

Run it under a throwaway PostgreSQL: `scripts/with-postgres.sh .venv/bin/python -m soak` (what
`make soak` does). The load is Locust's (soak/locustfile.py, headless, in a subprocess); the
faults come from soak/faults.py; the checks are soak/invariants.py. Nothing here asserts: the
figures are printed beside their targets.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.config import DEMO_ACCOUNT_ID, DEMO_STAGING_ACCOUNT_ID  # noqa: E402
from soak.faults import FaultInjector  # noqa: E402
from tests.sandbox_process import free_port, stop  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
SETTLE_S, LATENCY_MS = 3.0, 100
COMPLETED_TARGET_S = 3 * SETTLE_S + 2
USERS = {"admin": 4, "viewer": 6, "finance": 2}  # as the Locust classes' fixed_count
PASSWORD = "soak-password-19"  # noqa: S105 - throwaway users of a throwaway database
# One account pays with a plain card (saved, then charged by Cloudflare at create); the other with
# a card that always asks for 3-D Secure, so every top-up of it goes through the browser.
ACCOUNTS = [
    {"id": DEMO_ACCOUNT_ID, "name": "Soak production", "card_number": "4242424242424242"},
    {"id": DEMO_STAGING_ACCOUNT_ID, "name": "Soak staging", "card_number": "4000002760003184"},
]
RESULTS = Path(os.environ.get("SOAK_RESULTS_FILE", ROOT / "bench" / "soak.json"))
LOGS = ROOT / "test-artifacts" / "soak"
# Long enough for an admin to see a slow top-up through (soak/locustfile.py gives up at 240 s).
STOP_TIMEOUT_S = 300


def create_database(url: str) -> None:
    """The soak writes its own users and top-ups: it wants a database of its own, new."""
    import psycopg
    from psycopg import sql

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(
                f"Database {name!r} exists: the soak wants a new one (scripts/with-postgres.sh)"
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("The soak runs on PostgreSQL: scripts/with-postgres.sh .venv/bin/python -m soak")
create_database(os.environ["DATABASE_URL"])

API_PORT, LOCALSTRIPE_PORT, WEB_PORT = free_port(), free_port(), free_port()
WEB = f"http://127.0.0.1:{WEB_PORT}"
SANDBOX = f"http://127.0.0.1:{API_PORT}"
os.environ.update(
    {
        "BILLING_SANDBOX": "true",
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_STATIC_ROOT": tempfile.mkdtemp(prefix="soak-static-"),
        "SANDBOX_API_PORT": str(API_PORT),
        "LOCALSTRIPE_PORT": str(LOCALSTRIPE_PORT),
        # Four admins topping up all the time would meet the hourly cap in minutes.
        "TOPUP_CAP_PER_HOUR": "1000000",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{WEB_PORT}",
        "GUNICORN_WORKERS": "3",
        "GUNICORN_THREADS": "4",
        "PYTHONUNBUFFERED": "1",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import CloudflareAccount, Membership  # noqa: E402
from soak import invariants  # noqa: E402
from soak.report import report  # noqa: E402


def main() -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    running = []
    try:
        print(f"Soak of {SECONDS} s; logs in {LOGS.relative_to(ROOT)}/", flush=True)
        sandbox = spawn("sandbox", [sys.executable, "-m", "sandbox", *sandbox_args()], running)
        sandbox_started = time.time()
        wait_until_up(f"{SANDBOX}/__sandbox/health", sandbox)
        call_command("migrate", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        usernames = seed()
        gunicorn = spawn(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "billing_portal.wsgi", "-c", "gunicorn.conf.py"],
            running,
        )
        wait_until_up(f"{WEB}/healthz", gunicorn)
        load = run_load(usernames, gunicorn.pid)
        print("Load over; running refresh_topups and reconcile_invoices…", flush=True)
        time.sleep(SETTLE_S + 2)  # the last payments settle, as they would before cron runs
        commands = [cron("refresh_topups"), cron("reconcile_invoices")]
        log = sandbox_log()
        control("POST", "config", {"latency_ms": 0})  # the checks ask the sandbox straight
        findings = invariants.check(
            cloudflare=invariants.CloudflareSide(settings.CLOUDFLARE_BASE_URL),
            account_ids=[account["id"] for account in ACCOUNTS],
            log=log,
            create_faults=load["create_faults"],
            books_opened_at=sandbox_started - sandbox_started % 3600,
            now=time.time(),
        )
        report(
            load,
            findings,
            commands,
            completed_target_s=COMPLETED_TARGET_S,
            access_log=LOGS / "gunicorn.log",
            results=RESULTS,
        )
    finally:
        for process in reversed(running):
            stop(process)


def sandbox_args() -> list[str]:
    return [
        "--api-port",
        str(API_PORT),
        "--localstripe-port",
        str(LOCALSTRIPE_PORT),
        "--settle-seconds",
        str(SETTLE_S),
        "--no-demo-history",  # empty books: the balance is exactly what the soak paid in
    ]


def spawn(name: str, argv: list[str], running: list) -> subprocess.Popen:
    env = {**os.environ, "SANDBOX_LATENCY_MS": str(LATENCY_MS)} if name == "sandbox" else None
    # gunicorn's stdout is its access log (one JSON object per request), kept apart.
    errors = open(LOGS / f"{name}-errors.log", "w") if name == "gunicorn" else subprocess.STDOUT  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        argv,
        cwd=ROOT,
        env=env,
        stdout=open(LOGS / f"{name}.log", "w"),  # noqa: SIM115 - lives with the process
        stderr=errors,
    )
    running.append(process)
    return process


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until `url` answers 200; a busy machine may take a while to boot the workers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{process.args[2]} exited with {process.returncode}; see {LOGS}/")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout:.0f} s; see {LOGS}/")


def seed() -> dict[str, list[str]]:
    User = get_user_model()
    accounts = [
        CloudflareAccount.objects.create(account_id=a["id"], name=a["name"]) for a in ACCOUNTS
    ]
    usernames = {}
    for role, count in USERS.items():
        usernames[role] = [f"soak-{role}-{n}" for n in range(1, count + 1)]
        for username in usernames[role]:
            user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
            for account in accounts:
                Membership.objects.create(user=user, account=account, role=role)
    return usernames


def write_locust_config(path: Path, usernames: dict) -> None:
    """What the locustfile reads: where things are, who signs in, and each account's card."""
    expiry_and_cvc = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}
    path.write_text(
        json.dumps(
            {
                "sandbox_url": SANDBOX,
                "localstripe_url": settings.LOCALSTRIPE_URL,
                "password": PASSWORD,
                "users": usernames,
                "accounts": [
                    {"id": a["id"], "card": {"number": a["card_number"], **expiry_and_cvc}}
                    for a in ACCOUNTS
                ],
            }
        )
    )


def start_locust(config: Path, results: Path) -> subprocess.Popen:
    users = sum(USERS.values())
    # One user a second: a team signs in over a few seconds, not all in the same one.
    return subprocess.Popen(  # noqa: S603 - our own interpreter and locustfile
        [
            *(sys.executable, "-m", "locust", "-f", "soak/locustfile.py", "--headless"),
            *("--users", str(users), "--spawn-rate", "1", "--host", WEB),
            *("--run-time", f"{SECONDS}s", "--stop-timeout", str(STOP_TIMEOUT_S)),
            *("--only-summary", "--loglevel", "WARNING"),
        ],
        cwd=ROOT,
        env={**os.environ, "SOAK_CONFIG": str(config), "SOAK_RESULTS": str(results)},
        stdout=open(LOGS / "locust.log", "w"),  # lives with the process
        stderr=subprocess.STDOUT,
    )


def run_load(usernames: dict, gunicorn_pid: int) -> dict:
    """Locust headless for SECONDS (then each user finishes what it is doing), the fault
    injector beside it, and gunicorn's workers' memory after warm-up and at the end."""
    config, results = LOGS / "locust-config.json", LOGS / "locust-results.json"
    write_locust_config(config, usernames)
    results.unlink(missing_ok=True)
    control("DELETE", "requests")
    locust = start_locust(config, results)
    started = time.time()
    injector = FaultInjector(SANDBOX, SECONDS)
    injector.start()
    warm_up = min(60.0, SECONDS / 4)
    time.sleep(warm_up)
    rss_warm = settled_rss_mb(gunicorn_pid)
    print(f"  warmed up after {warm_up:.0f} s: workers' RSS {rss_warm}", flush=True)
    try:
        locust.wait(timeout=SECONDS + STOP_TIMEOUT_S + 120)
    finally:
        if locust.poll() is None:
            locust.terminate()
            locust.wait(timeout=30)
    ended = time.time()
    injector.stop()
    pending = control("GET", "faults")["faults"]
    control("DELETE", "faults")
    rss_end = settled_rss_mb(gunicorn_pid)
    taken = len(injector.create_faults()) - sum(f["endpoint"] == "create" for f in pending)
    if not results.exists():
        sys.exit(f"Locust wrote no results (exit code {locust.returncode}): see {LOGS}/locust.log")
    return {
        "locust": json.loads(results.read_text()),
        "seconds": ended - started,
        "log": [record for record in sandbox_log() if record["at"] <= ended],
        "faults": injector.injected,
        "faults_left": pending,
        "create_faults": injector.create_faults()[:taken],
        "rss_warm": rss_warm,
        "rss_end": rss_end,
    }


def settled_rss_mb(master_pid: int, samples: int = 5) -> dict[int, float]:
    """Each worker's lowest RSS over a few samples a second apart: what it keeps, not what a
    request in flight holds for a moment."""
    lowest: dict[int, float] = {}
    for sample in range(samples):
        for pid, rss in worker_rss_mb(master_pid).items():
            lowest[pid] = min(rss, lowest.get(pid, rss))
        if sample < samples - 1:
            time.sleep(1)
    return lowest


def worker_rss_mb(master_pid: int) -> dict[int, float]:
    """Resident memory of each gunicorn worker (the master's children), from /proc."""
    workers = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue  # gone meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) != master_pid:
            continue
        rss_kb = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        workers[int(entry.name)] = round(int(rss_kb.split()[1]) / 1024, 1)
    return workers


def control(method: str, path: str, body=None) -> dict:
    answer = requests.request(method, f"{SANDBOX}/__sandbox/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def sandbox_log() -> list[dict]:
    return control("GET", "requests")["requests"]


def cron(command: str) -> tuple[str, str]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return command, (done.stdout + done.stderr).strip() or f"(exit code {done.returncode})"


if __name__ == "__main__":
    main()
