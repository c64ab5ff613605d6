"""deploy/nginx/billing-portal.conf, the README's nginx site: Debian's nginx accepts it, and in
front of gunicorn it serves /healthz, sends plain HTTP to HTTPS and tells the app the request
came over HTTPS (so the app neither redirects again nor sets cookies without Secure)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.sandbox_process import free_port, stop, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "billing-portal.conf"
HOST = "billing.example.com"


def nginx_binary() -> str:
    # The test needs it (`make test` installs Debian's nginx); no skip when it is missing.
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(found).exists(), "Debian's nginx is needed: apt-get install nginx"
    return found


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def site_for_test(directory: Path, *, http_port: int, https_port: int, app_port: int) -> Path:
    """The example with its certificate, ports and upstream moved to what this test owns."""
    cert, key = self_signed_certificate(directory)
    site = SITE.read_text()
    site = site.replace(f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(cert))
    site = site.replace(f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(key))
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)  # IPv4 loopback only here
    site = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", site)
    site = re.sub(r"listen 443 ", f"listen 127.0.0.1:{https_port} ", site)
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    path = directory / "site.conf"
    path.write_text(site)
    return path


def main_config(directory: Path, site: Path, *, http_port: int) -> Path:
    """A minimal nginx.conf that includes the site, after another site on the same plain-HTTP
    port (as on a host that serves more than this app): the example must still be the one that
    answers a probe by IP address. Every path nginx writes is in `directory`."""
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / temp).mkdir(exist_ok=True)
    path = directory / "nginx.conf"
    path.write_text(
        f"""daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{ listen 127.0.0.1:{http_port}; server_name other.example.org; return 404; }}
    include {site};
}}
"""
    )
    return path


def nginx_args(directory: Path, config: Path) -> list[str]:
    return [
        nginx_binary(),
        "-p",
        str(directory),
        "-e",
        str(directory / "error.log"),
        "-c",
        str(config),
    ]


def test_debian_nginx_accepts_the_example_site(tmp_path):
    http_port = free_port()
    site = site_for_test(tmp_path, http_port=http_port, https_port=free_port(), app_port=8000)
    result = subprocess.run(
        [*nginx_args(tmp_path, main_config(tmp_path, site, http_port=http_port)), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_example_site_keeps_the_timeouts_in_order():
    site = SITE.read_text()
    gunicorn_conf = (ROOT / "gunicorn.conf.py").read_text()
    gunicorn_timeout = int(re.search(r"^timeout = (\d+)", gunicorn_conf, re.M).group(1))
    gunicorn_keepalive = int(re.search(r'"GUNICORN_KEEPALIVE", "(\d+)"', gunicorn_conf).group(1))
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", site).group(1))
    upstream_idle = int(re.search(r"keepalive_timeout (\d+)s;", site).group(1))
    assert read_timeout > gunicorn_timeout, "gunicorn, not nginx, must give up on a slow request"
    assert upstream_idle < gunicorn_keepalive, "nginx, not gunicorn, must drop an idle connection"


@pytest.fixture
def gunicorn_behind_the_proxy(tmp_path):
    """`make serve`'s gunicorn configured as the README says for a single nginx in front."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings_test",  # no collectstatic needed
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_HTTPS_ONLY": "true",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "DJANGO_PROXY_COUNT": "1",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "billing_portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=process)
        yield port
    finally:
        stop(process)


def test_nginx_in_front_of_gunicorn_serves_the_site_over_https(tmp_path, gunicorn_behind_the_proxy):
    http_port, https_port = free_port(), free_port()
    site = site_for_test(
        tmp_path, http_port=http_port, https_port=https_port, app_port=gunicorn_behind_the_proxy
    )
    nginx = subprocess.Popen(nginx_args(tmp_path, main_config(tmp_path, site, http_port=http_port)))
    try:
        https = f"https://127.0.0.1:{https_port}"
        wait_for_http(f"http://127.0.0.1:{http_port}/healthz", process=nginx)
        headers = {"Host": HOST}
        certificate = str(tmp_path / "cert.pem")  # the self-signed one site_for_test made

        health = requests.get(f"{https}/healthz", headers=headers, verify=certificate, timeout=10)
        assert (health.status_code, health.json()["status"]) == (200, "ok")
        probe = requests.get(f"http://127.0.0.1:{http_port}/healthz", timeout=10)
        assert probe.status_code == 200, "the load balancer's plain-HTTP probe reaches the app"

        plain = requests.get(
            f"http://127.0.0.1:{http_port}/login/",
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://{HOST}/login/"

        # The app sees HTTPS: no second redirect to https://, the session's cookies are Secure,
        # and HSTS is sent (Django sends it only on secure requests).
        login = requests.get(
            f"{https}/login/",
            headers=headers,
            verify=certificate,
            allow_redirects=False,
            timeout=10,
        )
        assert login.status_code == 200, login.headers.get("Location")
        assert "secure" in login.headers["Set-Cookie"].lower()
        assert login.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
