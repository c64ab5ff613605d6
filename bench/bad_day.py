"""The benchmark's bad-day figures: sign-in while Cloudflare hangs, and a short soak (its load,
faults and PostgreSQL). Imported by bench/__main__.py once Django is set up."""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.test import Client
from django.urls import reverse

from tests.sandbox_process import free_port, wait_for_http
from topups.models import TopUp
from topups.states import TopUpState

ROOT = Path(__file__).resolve().parent.parent


def outage(sandbox, user, account, notes) -> float:
    """Sign-in page p95 while twelve clients poll a processing top-up's status every second and
    Cloudflare's status endpoint hangs (25 s), over the same with no fault: same gunicorn (as
    `make serve` runs it, 3 workers x 4 threads), same run."""
    topup = _processing_topup(user, account)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _gunicorn(sandbox, port)
    client = Client()
    client.force_login(user)
    cookie = {"sessionid": client.cookies["sessionid"].value}
    status_url = base + reverse(
        "topups:status", kwargs={"account_id": account.account_id, "pk": topup.pk}
    )
    stop_polling = threading.Event()
    pollers = [
        threading.Thread(target=_poll, args=(status_url, cookie, stop_polling), daemon=True)
        for _ in range(12)
    ]
    try:
        wait_for_http(f"{base}/healthz", process=server)
        for poller in pollers:
            poller.start()
        normal, _ = _sign_in_p95(base, 15)
        sandbox.fault("status", "hang", count=100_000, hang_seconds=25)
        hanging, failures = _sign_in_p95(base, 40)
    finally:
        stop_polling.set()
        sandbox.control("DELETE", "faults")
        server.terminate()
        server.wait(timeout=30)
    notes["outage"] = (
        f"sign-in p95 {normal * 1000:.1f} ms with no fault, {hanging * 1000:.1f} ms while status "
        f"hangs (12 pollers, 40 s, {failures} failed)"
    )
    return hanging / normal


def _processing_topup(user, account) -> TopUp:
    """A top-up Cloudflare really made, in the state whose page polls its status."""
    from accounts.cloudflare import client_for_account

    created = client_for_account(account).topups.create(account.account_id, amount_cents=5000)
    return TopUp.objects.create(
        account=account,
        created_by=user,
        amount_cents=5000,
        state=TopUpState.PROCESSING,
        payment_intent_id=created.payment_intent_id,
    )


def _gunicorn(sandbox, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "billing_portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_DEBUG": "false",
            "CLOUDFLARE_BASE_URL": sandbox.api_url,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "3",
            "GUNICORN_THREADS": "4",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _poll(status_url: str, cookie: dict, stop_polling: threading.Event) -> None:
    import requests

    session = requests.Session()
    session.cookies.update(cookie)
    while not stop_polling.is_set():
        with contextlib.suppress(requests.RequestException):
            session.get(status_url, timeout=60)
        stop_polling.wait(1)


def _sign_in_p95(base: str, seconds: float) -> tuple[float, int]:
    import requests

    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            requests.get(f"{base}/login/", timeout=60).raise_for_status()
            latencies.append(time.perf_counter() - start)
        except requests.RequestException:
            failures += 1
            latencies.append(time.perf_counter() - start)
        time.sleep(0.2)
    return statistics.quantiles(latencies, n=20)[-1], failures


def soak_like_run(notes, outside_env: dict, seconds: int) -> float:
    """`make soak` for seconds (its load, faults and PostgreSQL): the 95th percentile of
    confirm → the page showing completed, beside the share of Cloudflare calls that were status
    checks."""
    out = Path(tempfile.mkdtemp(prefix="bench-load-")) / "soak.json"
    print(f"A soak-like run of {seconds} s…", flush=True)
    subprocess.run(  # noqa: S603 - our own script and interpreter
        [ROOT / "scripts" / "with-postgres.sh", sys.executable, "-m", "soak"],
        cwd=ROOT,
        env={**outside_env, "SOAK_SECONDS": str(seconds), "SOAK_RESULTS_FILE": str(out)},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    soak = json.loads(out.read_text())
    notes["load"] = (
        f"{seconds} s of the soak: {soak['status_share_of_calls']:.0%} of Cloudflare calls"
        f" were status checks; {soak['invariant_violations']} invariant violations,"
        f" {soak['server_errors']} server errors"
    )
    return soak["completed_p95_s"]
