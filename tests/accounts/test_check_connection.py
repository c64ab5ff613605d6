"""The Django admin's "Check connection" action: the account's balance read with its own
credential, against the sandbox, and a plain sentence on whether that works and, if not, why."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.credentials import CANNOT_OPEN, seal
from accounts.models import CloudflareAccount
from cloudflare_client import Credentials
from tests.conftest import SANDBOX_TOKEN

pytestmark = pytest.mark.django_db
UNKNOWN_TO_CLOUDFLARE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def staff_client(client, operator_user):
    client.force_login(operator_user)
    return client


def check_connection(staff_client, *accounts) -> list[tuple[str, str]]:
    response = staff_client.post(
        reverse("admin:accounts_cloudflareaccount_changelist"),
        {"action": "check_connection", "_selected_action": [a.pk for a in accounts]},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_a_working_credential_says_so_with_the_balance(
    staff_client, account, sandbox_settings, sandbox
):
    sandbox.control("POST", "balance", {"balance": 64019})

    assert check_connection(staff_client, account) == [
        (
            "success",
            "Acme AI (production): the connection works. Cloudflare answered with this "
            "account's credential: the balance is $640.19. Top-ups also need the “AI Gateway "
            "Write” permission, which a read cannot test.",
        )
    ]
    assert len(sandbox.requests("balance")) == 1


def test_a_wrong_token_is_an_authentication_failure(
    staff_client, account, sandbox_settings, settings
):
    settings.CLOUDFLARE_API_TOKEN = "not-the-sandbox-token"

    [(level, message)] = check_connection(staff_client, account)

    assert level == "error"
    assert message.startswith(
        "Acme AI (production): Cloudflare refused the credential (HTTP 403, code 10000: "
        "Authentication error)."
    )
    assert "wrong or revoked" in message
    assert "not-the-sandbox-token" not in message


def test_an_account_the_credential_may_not_read_names_the_missing_permission(
    staff_client, sandbox_settings
):
    account = CloudflareAccount.objects.create(name="Elsewhere", account_id=UNKNOWN_TO_CLOUDFLARE)

    [(level, message)] = check_connection(staff_client, account)

    assert level == "error"
    assert message == (
        "Elsewhere: Cloudflare refused this credential access to the account (HTTP 403, code "
        "9109: Unauthorized to access requested resource). Give the token the “AI Gateway "
        f"Read” and “AI Gateway Write” permissions on account {UNKNOWN_TO_CLOUDFLARE}, or "
        "check the account ID."
    )


def test_a_credential_the_keys_cannot_open_is_named_and_nothing_is_sent(
    staff_client, account, sandbox_settings, sandbox, settings
):
    account.credential = "stored"
    account.sealed_credential = seal(Credentials(api_token=SANDBOX_TOKEN))
    account.save()
    settings.CREDENTIALS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    assert check_connection(staff_client, account) == [
        ("error", f"Acme AI (production): {CANNOT_OPEN}")
    ]
    assert sandbox.requests() == []


def test_cloudflare_unreachable_says_so(staff_client, account, sandbox_settings, sandbox):
    sandbox.fault("balance", "500", count=5)

    [(level, message)] = check_connection(staff_client, account)

    assert level == "error"
    assert message == (
        "Acme AI (production): Cloudflare's billing API is not reachable right now. Nothing is "
        "known about the credential yet: try again in a minute."
    )
