"""Sign-in lockout behind a TLS proxy: the address counted is the one the proxy saw, never an
address the client wrote into X-Forwarded-For, and with no proxy configured the header is ignored.

Each test loads billing_portal/settings.py afresh with DJANGO_PROXY_COUNT set, applies its
client-address settings and drives the real sign-in view."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "billing_portal" / "settings.py"
PROXY = "10.0.0.2"  # REMOTE_ADDR of every request that comes through the proxy
ATTACKER = "203.0.113.66"
REAL_USER = "198.51.100.20"


def client_address_settings(monkeypatch, proxy_count: str) -> dict:
    """The settings that decide a sign-in's client address, as settings.py derives them from
    DJANGO_PROXY_COUNT."""
    monkeypatch.setenv("DJANGO_PROXY_COUNT", proxy_count)
    loaded = runpy.run_path(str(SETTINGS_FILE))
    return {
        name: value
        for name, value in loaded.items()
        if name.startswith(("AXES_IPWARE_", "AXES_CLIENT_IP", "IPWARE_", "PROXY_COUNT"))
    }


def fail_until_locked_out(client, username, **meta):
    wrong = {"username": username, "password": "wrong"}
    answers = [client.post(reverse("login"), wrong, **meta).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]


def sign_in(client, user, **meta):
    right = {"username": user.username, "password": "pw-" + user.username}
    return client.post(reverse("login"), right, **meta)


@pytest.mark.parametrize("proxy_count", ["1", "2"])
def test_behind_the_proxy_an_attacker_does_not_lock_the_user_out_of_their_own_address(
    client, admin_user, monkeypatch, proxy_count
):
    hops = int(proxy_count) - 1  # proxies between the outermost one and the nearest one
    behind_proxies = ", ".join(["172.16.0.1"] * hops)

    def through_proxies(client_address, forged=""):
        # Each proxy appends the address it received the connection from; the nearest one is
        # REMOTE_ADDR. Whatever the client sent itself comes first.
        chain = ", ".join(part for part in (forged, client_address, behind_proxies) if part)
        return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}

    with override_settings(**client_address_settings(monkeypatch, proxy_count)):
        # The attacker even names the real user's address as the client: it is not believed.
        fail_until_locked_out(
            client, admin_user.username, **through_proxies(ATTACKER, forged=REAL_USER)
        )

        assert sign_in(client, admin_user, **through_proxies(REAL_USER)).status_code == 302
        # The attacker's own address stays locked out, whatever it claims to be.
        client.logout()
        # Nor can a malformed entry of its own (an unclosed quote) shift which one is taken.
        forged = '1.2.3.4, "'
        attacker_again = sign_in(client, admin_user, **through_proxies(ATTACKER, forged=forged))
        assert attacker_again.status_code == 429


def test_with_no_proxy_configured_a_forged_forwarded_for_changes_nothing(
    client, admin_user, monkeypatch
):
    with override_settings(**client_address_settings(monkeypatch, "0")):
        fail_until_locked_out(
            client, admin_user.username, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=REAL_USER
        )

        # A fresh X-Forwarded-For from the same connection address is still the same client.
        forged = sign_in(client, admin_user, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert forged.status_code == 429
        assert sign_in(client, admin_user, REMOTE_ADDR=REAL_USER).status_code == 302


def test_a_negative_proxy_count_is_refused_by_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_PROXY_COUNT"):
        client_address_settings(monkeypatch, "-1")


def test_the_lockout_warning_names_the_username_and_client_address_never_the_password(
    client, admin_user, monkeypatch, caplog
):
    """An operator acts on a lockout (unlocks the user, blocks the address): the warning says
    whom and from where, as the proxy saw it."""
    with override_settings(**client_address_settings(monkeypatch, "1")):
        for _ in range(5):
            client.post(
                reverse("login"),
                {"username": admin_user.username, "password": "hunter2-guess"},
                REMOTE_ADDR=PROXY,
                HTTP_X_FORWARDED_FOR=ATTACKER,
            )

    (warning,) = [r for r in caplog.records if "Locking out" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert admin_user.username in warning.getMessage()
    assert ATTACKER in warning.getMessage()
    assert "hunter2" not in caplog.text
