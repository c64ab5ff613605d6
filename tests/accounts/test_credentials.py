"""Per-account credentials: sealed with a key from the environment, write-only in the admin,
the environment's credentials still the default."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse

from accounts.cloudflare import client_for_account, credential_problem
from accounts.credentials import seal, unseal
from accounts.models import CloudflareAccount
from cloudflare_client import CloudflareConfigurationError, Credentials
from tests.conftest import STAGING_ACCOUNT_ID

TOKEN = "cf-canary-token-5d1f0c7e9a2b4c6d8e0f"
pytestmark = pytest.mark.django_db


def test_a_sealed_credential_opens_only_with_its_key(settings):
    sealed = seal(Credentials(api_token=TOKEN))

    assert TOKEN not in sealed
    assert unseal(sealed) == Credentials(api_token=TOKEN)
    settings.CREDENTIALS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CloudflareConfigurationError, match="cannot be opened"):
        unseal(sealed)
    settings.CREDENTIALS_ENCRYPTION_KEYS = []
    with pytest.raises(CloudflareConfigurationError, match="Set CREDENTIALS_ENCRYPTION_KEY"):
        seal(Credentials(api_token=TOKEN))


def test_a_stored_credential_with_no_key_configured_says_the_key_is_not_set(settings, account):
    # CREDENTIALS_ENCRYPTION_KEY dropped from the environment (an empty value is none): the
    # account's pages and the cron commands say why, rather than ask to store a credential.
    account.credential, account.sealed_credential = "stored", seal(Credentials(api_token=TOKEN))
    settings.CREDENTIALS_ENCRYPTION_KEYS = []

    assert credential_problem(account) == (
        "This account's stored credential cannot be opened: CREDENTIALS_ENCRYPTION_KEY is not "
        "set (set it to the key the credential was stored with)."
    )


def test_an_account_calls_cloudflare_with_its_own_credential_else_the_environments(settings):
    settings.CLOUDFLARE_API_TOKEN = "env-token"
    own = CloudflareAccount(
        credential="stored",
        sealed_credential=seal(Credentials(email="ops@other.example", api_key="k-123")),
    )

    assert client_for_account(own).transport.credentials == Credentials(
        email="ops@other.example", api_key="k-123"
    )
    assert client_for_account(CloudflareAccount()).transport.credentials == Credentials(
        api_token="env-token"
    )


def test_the_database_refuses_a_stored_credential_without_its_sealed_text(account):
    with pytest.raises(IntegrityError):
        CloudflareAccount.objects.filter(pk=account.pk).update(credential="stored")


def test_rotating_the_key_reseals_every_stored_credential(settings, account):
    old_key, new_key = settings.CREDENTIALS_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    account.credential, account.sealed_credential = "stored", seal(Credentials(api_token=TOKEN))
    account.save()

    settings.CREDENTIALS_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("reseal_credentials", verbosity=0)
    settings.CREDENTIALS_ENCRYPTION_KEYS = [new_key]

    account.refresh_from_db()
    assert unseal(account.sealed_credential) == Credentials(api_token=TOKEN)


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, operator_user):
    client.force_login(operator_user)
    return client


def admin_form(**fields):
    return {
        "name": "Other organisation",
        "account_id": STAGING_ACCOUNT_ID,
        "credential": "stored",
        "api_token": "",
        "email": "",
        "api_key": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_the_admin_stores_a_credential_sealed_and_never_shows_it(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_cloudflareaccount_add"), admin_form(api_token=TOKEN)
    )

    assert response.status_code == 302
    account = CloudflareAccount.objects.get(account_id=STAGING_ACCOUNT_ID)
    assert TOKEN not in account.sealed_credential
    assert unseal(account.sealed_credential) == Credentials(api_token=TOKEN)
    change = staff_client.get(
        reverse("admin:accounts_cloudflareaccount_change", args=[account.pk])
    ).content.decode()
    assert "Stored, encrypted, since" in change
    assert TOKEN not in change
    assert account.sealed_credential not in change


def test_saving_without_typing_keeps_the_stored_credential_and_leaving_it_forgets_it(
    staff_client,
):
    add = reverse("admin:accounts_cloudflareaccount_add")
    staff_client.post(add, admin_form(email="ops@other.example", api_key="k-123"))
    account = CloudflareAccount.objects.get(account_id=STAGING_ACCOUNT_ID)
    change = reverse("admin:accounts_cloudflareaccount_change", args=[account.pk])

    staff_client.post(change, admin_form(name="Renamed"))
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert unseal(account.sealed_credential).api_key == "k-123"

    staff_client.post(change, admin_form(credential="api_token"))
    account.refresh_from_db()
    assert (account.credential, account.sealed_credential) == ("api_token", "")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Enter the account&#x27;s API token"),
        ({"email": "ops@other.example"}, "needs both the email and the key"),
        ({"api_token": TOKEN, "api_key": "k"}, "Enter an API token, or an email"),
        ({"credential": "api_token", "api_token": TOKEN}, "A credential was typed"),
    ],
)
def test_the_admin_refuses_an_incomplete_credential(staff_client, fields, error):
    response = staff_client.post(
        reverse("admin:accounts_cloudflareaccount_add"), admin_form(**fields)
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert TOKEN not in response.content.decode()  # not even echoed back into the form
    assert not CloudflareAccount.objects.exists()


def test_without_an_encryption_key_nothing_is_stored(staff_client, settings):
    settings.CREDENTIALS_ENCRYPTION_KEYS = []
    response = staff_client.post(
        reverse("admin:accounts_cloudflareaccount_add"), admin_form(api_token=TOKEN)
    )

    assert "Set CREDENTIALS_ENCRYPTION_KEY" in response.content.decode()
    assert not CloudflareAccount.objects.exists()
