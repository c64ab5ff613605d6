"""Security settings: the Content-Security-Policy of every page, sign-in throttling, and the
production settings under `check --deploy` (run in a subprocess with a live-mode environment)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from billing_portal.csp import content_security_policy
from tests.test_access import urls

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent

LIVE_ENV = {
    "BILLING_SANDBOX": "false",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3Jx9-zQ_w8Lr2VtYb6NpHc4MfGs1DaUe7WoKi5ZjXqRy0TnBvCm",
    "DJANGO_ALLOWED_HOSTS": "billing.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://billing.example.com",
    "SITE_URL": "https://billing.example.com",
    "EMAIL_URL": "smtp+tls://alerts:mail-password@smtp.billing.test:587",
    "DEFAULT_FROM_EMAIL": "AI Gateway billing <billing@billing.test>",
    "CLOUDFLARE_API_TOKEN": "live-token-for-the-check",
    "CLOUDFLARE_ACCOUNT_ID": "023e105f4ecef8ad9ca31a8372d0c353",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_for_the_check",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}


def manage(*args, env=None) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLOUDFLARE_", "STRIPE_", "DJANGO_", "BILLING_"))
    }
    environment.update(env or LIVE_ENV, DATABASE_URL="sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_https_is_switched_off():
    """The check above can fail: the same environment without HTTPS-only settings does."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=LIVE_ENV | {"DJANGO_HTTPS_ONLY": "false"},
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS
    assert "security.W008" in result.stderr  # SSL redirect


@pytest.mark.parametrize(
    ("unset", "error"),
    [
        ("EMAIL_URL", "billing.E013"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "billing.E014"),
        ("DJANGO_ALLOWED_HOSTS", "billing.E011"),
        ("DEFAULT_FROM_EMAIL", "billing.E017"),
    ],
)
def test_check_deploy_fails_when_a_site_variable_is_unset(unset, error):
    """What `make serve` runs before gunicorn: one variable missing stops the start."""
    environment = {k: v for k, v in LIVE_ENV.items() if k != unset}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=environment)
    assert result.returncode != 0
    assert error in result.stderr
    assert unset in result.stderr


def test_production_hashes_passwords_with_argon2():
    code = "from django.contrib.auth.hashers import make_password; print(make_password('x'))"
    result = manage("shell", "-c", code)
    assert result.stdout.splitlines()[-1].startswith("argon2$"), result.stdout + result.stderr


def password_of(user) -> str:
    return "pw-" + user.username  # as tests.factories.member sets it


# --- Content-Security-Policy -------------------------------------------------------------------


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_every_page_has_the_policy_scripts_from_self_and_stripe_js_only(
    client, admin_user, finance_user, awaiting_topup, sandbox, sandbox_settings
):
    responses = {"login": client.get(reverse("login")), "healthz": client.get("/healthz")}
    for user in (admin_user, finance_user):
        client.force_login(user)
        for name, (method, url) in urls(awaiting_topup).items():
            responses[f"{user.username}:{name}"] = getattr(client, method)(url)
    responses["admin site"] = client.get("/admin/login/")

    for name, response in responses.items():
        policy = directives(response)
        assert policy["script-src"] == ["'self'", sandbox.url], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], name


def test_live_mode_allows_what_stripe_js_needs_and_nothing_of_the_sandbox():
    live = content_security_policy(stripe_js_url="https://js.stripe.com/v3/")["DIRECTIVES"]
    assert live["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert "https://hooks.stripe.com" in live["frame-src"]  # 3-D Secure
    assert live["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert not any("127.0.0.1" in source for sources in live.values() for source in sources)


# --- sign-in throttling -------------------------------------------------------------------------


def test_sign_in_is_locked_out_after_five_failures_with_a_clear_429(
    client, admin_user, viewer_user, caplog
):
    login = reverse("login")
    for _ in range(4):
        wrong = {"username": admin_user.username, "password": "wrong"}
        assert client.post(login, wrong).status_code == 200
    with caplog.at_level(logging.WARNING, logger="axes"):
        locked = client.post(login, wrong)

    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "Try again in 15 minutes." in locked.content.decode()
    assert any("Locking out" in r.getMessage() for r in caplog.records)
    # Even the right password waits now; another user from the same address does not.
    right = client.post(
        login, {"username": admin_user.username, "password": password_of(admin_user)}
    )
    assert right.status_code == 429
    other = client.post(
        login, {"username": viewer_user.username, "password": password_of(viewer_user)}
    )
    assert other.status_code == 302
