"""Deployment: static files hashed and served by WhiteNoise without DEBUG, `/healthz` for load
balancers (reachable over plain HTTP), and gunicorn's JSON access log without query strings."""

import http.client
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from billing_portal.log_formats import JsonFormatter

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def collected(settings, tmp_path):
    """Static files collected as `make serve` does, served by WhiteNoise with DEBUG off."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "billing_portal.storage.StaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return tmp_path


def test_static_files_are_hashed_and_served_without_debug(collected):
    client = Client()  # WhiteNoise indexes STATIC_ROOT when the first request loads it

    page = client.get(reverse("login")).content.decode()
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links the hashed stylesheet"
    response = client.get(css.group(1), HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]


def test_a_module_imports_the_hashed_name_of_what_it_imports(collected):
    client = Client()
    module = next((collected / "js").glob("history-live.*.js")).read_text()

    imported = re.search(r'from "\./(poll\.[0-9a-f]{12}\.js)"', module)
    assert imported, module[:400]
    response = client.get(f"/static/js/{imported.group(1)}")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_over_plain_http_when_everything_else_redirects(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    redirected = client.get(reverse("login"))
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(tmp_path, **environment) -> Iterator[tuple[subprocess.Popen, int]]:
    """`make serve`'s gunicorn (one worker) on a free port, answering: the process and its port.
    Its stdout (the access log) is read once it has stopped; its stderr is in tmp_path/stderr.log.
    Its runtime directory (where gunicorn would put a control socket) is tmp_path/run."""
    port = free_port()
    (tmp_path / "run").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "BILLING_SANDBOX": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path),  # collected, as by make serve
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        **environment,
    }
    with open(tmp_path / "stderr.log", "w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "billing_portal.wsgi", "-c", "gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gunicorn_logs_json_lines_without_query_strings(tmp_path):
    with gunicorn(tmp_path) as (server, port):
        url = f"http://127.0.0.1:{port}/healthz?payment_intent_client_secret=pi_1_secret_2"
        assert requests.get(url, timeout=5).status_code == 200
    output = server.stdout.read()
    entry = json.loads(output.strip().splitlines()[-1])
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
    assert isinstance(entry["duration_ms"], int)
    assert "secret" not in output


def test_gunicorn_keeps_an_idle_connection_open_longer_than_the_pages_poll(tmp_path):
    """A load balancer reuses its connection to the app after the pages' 2 s poll (and up to its
    own idle timeout): gunicorn must not have closed it in between, or that request is a 502."""
    with gunicorn(tmp_path) as (_, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            assert connection.getresponse().read()
            kept_alive = connection.sock
            time.sleep(3)
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            assert answer.status == 200
            assert connection.sock is kept_alive, "the same connection, not a new one"
        finally:
            connection.close()


def test_gunicorn_s_own_lines_are_json_with_a_time_and_a_level(tmp_path):
    with gunicorn(tmp_path):
        pass
    lines = (tmp_path / "stderr.log").read_text().splitlines()

    entries = [json.loads(line) for line in lines]  # every line, nothing but JSON
    listening = next(e for e in entries if e["message"].startswith("Listening at: "))
    assert listening["level"] == "INFO"
    assert listening["logger"] == "gunicorn.error"
    assert listening["time"].endswith("+00:00")
    # The environment comes from the process here: no word about a missing .env file.
    assert not any(".env" in e["message"] for e in entries), lines


def test_gunicorn_opens_no_control_socket(tmp_path):
    """gunicorn's control socket defaults to one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl):
    a second instance on the host would take it over and, stopping, remove it from under the
    first. Nothing here uses it, so it is off."""
    with gunicorn(tmp_path):
        assert list((tmp_path / "run").iterdir()) == []


@pytest.mark.parametrize(
    ("proxy_count", "remote"), [("0", "127.0.0.1"), ("1", "203.0.113.9"), ("2", "127.0.0.1")]
)
def test_the_access_log_s_client_address_follows_the_proxy_chain(tmp_path, proxy_count, remote):
    """The rule of sign-in throttling (accounts.lockout): the DJANGO_PROXY_COUNT-th address from
    the right of X-Forwarded-For; with no proxy, or fewer entries than proxies, the peer."""
    with gunicorn(tmp_path, DJANGO_PROXY_COUNT=proxy_count) as (server, port):
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        requests.get(f"http://127.0.0.1:{port}/healthz", headers=forwarded, timeout=5)
    entry = json.loads(server.stdout.read().strip().splitlines()[-1])
    assert entry["remote"] == remote


def test_gunicorn_s_own_lines_never_keep_a_client_secret():
    """gunicorn's error line quotes the request's URI, query string included."""
    uri = "/accounts/1/topups/2/?payment_intent_client_secret=pi_1_secret_2"
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s", (uri,), None
    )

    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == (
        "Error handling request /accounts/1/topups/2/?payment_intent_client_secret=[redacted]"
    )
