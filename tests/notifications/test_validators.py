import socket

import pytest
from django.core.exceptions import ValidationError

from notifications.validators import validate_receiver_url


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "ftp://example.com/",
        "https:///nohost",
    ],
)
def test_live_mode_refuses_what_is_not_public_https(settings, url):
    settings.BILLING_SANDBOX = False
    with pytest.raises(ValidationError):
        validate_receiver_url(url, resolve=False)


def test_live_mode_takes_a_public_https_address(settings):
    settings.BILLING_SANDBOX = False
    validate_receiver_url("https://93.184.215.14/hook", resolve=False)
    validate_receiver_url("https://hooks.example.com/services/x", resolve=False)


def test_a_name_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.BILLING_SANDBOX = False
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answer)
    with pytest.raises(ValidationError, match="private, loopback"):
        validate_receiver_url("https://innocent.example.com/hook")
    validate_receiver_url("https://innocent.example.com/hook", resolve=False)


def test_a_name_that_does_not_resolve_is_refused(settings):
    settings.BILLING_SANDBOX = False
    with pytest.raises(ValidationError, match="could not be found"):
        validate_receiver_url("https://no-such-host.invalid/hook")


def test_the_sandbox_allows_its_own_loopback_receivers(settings):
    settings.BILLING_SANDBOX = True
    validate_receiver_url("http://127.0.0.1:8787/__sandbox/webhooks")
    with pytest.raises(ValidationError):
        validate_receiver_url("javascript:alert(1)")
