"""Deployment: static files hashed and served by WhiteNoise without DEBUG, `/healthz` for load
balancers (reachable over plain HTTP), and gunicorn's JSON access log without query strings."""

import http.client
import json
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
def gunicorn(tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`make serve`'s gunicorn (one worker) on a free port, answering: the process and its port.
    Its stdout (the access log) is read once it has stopped."""
    port = free_port()
    env = {
        **os.environ,
        "BILLING_SANDBOX": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "billing_portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
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
