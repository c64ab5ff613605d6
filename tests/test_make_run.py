"""The README's first command: `make run` serves the login page, wired to a live sandbox, and
Ctrl-C stops every process it started."""

import os
import re
import signal
import subprocess

import requests

from tests.sandbox_process import ROOT, free_port, wait_for_http


def test_make_run_serves_the_app_and_stops_cleanly(tmp_path):
    web, api, stripe = free_port(), free_port(), free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLOUDFLARE_", "STRIPE_", "BILLING_", "DJANGO_"))
        },
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "WEB_PORT": str(web),
        "SANDBOX_API_PORT": str(api),
        "LOCALSTRIPE_PORT": str(stripe),
    }
    log = open(tmp_path / "make-run.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        login = wait_for_http(f"http://127.0.0.1:{web}/login/", timeout=120, process=process)
        assert login.status_code == 200
        assert "Demo logins" in login.text
        css = re.search(r'href="(/static/css/app\.css)"', login.text).group(1)
        assert requests.get(f"http://127.0.0.1:{web}{css}", timeout=5).status_code == 200
        health = wait_for_http(f"http://127.0.0.1:{api}/__sandbox/health", process=process)
        assert health.json()["localstripe"] == f"http://127.0.0.1:{stripe}"

        session = requests.Session()
        session.get(f"http://127.0.0.1:{web}/login/", timeout=5)
        signed_in = session.post(
            f"http://127.0.0.1:{web}/login/",
            timeout=5,
            data={
                "username": "admin",
                "password": "admin-sandbox",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
        )
        assert "Acme AI (production)" in signed_in.text
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(timeout=30)
        log.seek(0)
        output = log.read()

    assert "web.1 stopped" in output, output
    assert "sandbox.1 stopped" in output, output
    assert "notifications.1 stopped" in output, output
    for port in (web, api, stripe):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"something still listens on port {port} after Ctrl-C")
