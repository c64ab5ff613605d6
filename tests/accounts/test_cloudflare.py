"""The Django adapter: settings and an account row become a client with the right credential."""

import pytest

from accounts.cloudflare import client_for_account, credentials_from_settings
from accounts.models import CloudflareAccount
from cloudflare_client import CloudflareConfigurationError, Credentials


def test_missing_credentials_are_a_configuration_error(settings):
    settings.CLOUDFLARE_API_TOKEN = ""
    settings.CLOUDFLARE_EMAIL = settings.CLOUDFLARE_API_KEY = ""
    with pytest.raises(CloudflareConfigurationError, match="CLOUDFLARE_API_TOKEN"):
        credentials_from_settings("api_token")
    with pytest.raises(CloudflareConfigurationError, match="CLOUDFLARE_EMAIL"):
        credentials_from_settings("global_key")


def test_each_account_gets_the_credential_it_names(settings):
    settings.CLOUDFLARE_API_TOKEN = "tok"
    settings.CLOUDFLARE_EMAIL, settings.CLOUDFLARE_API_KEY = "ops@example.com", "key"
    token = client_for_account(CloudflareAccount(credential="api_token"))
    key = client_for_account(CloudflareAccount(credential="global_key"))
    assert token.transport.credentials == Credentials(api_token="tok")
    assert key.transport.credentials == Credentials(email="ops@example.com", api_key="key")


def test_a_thread_reuses_its_client_until_the_settings_change(settings):
    settings.CLOUDFLARE_API_TOKEN = "tok"
    account = CloudflareAccount(credential="api_token")
    first = client_for_account(account)
    assert client_for_account(account) is first
    settings.CLOUDFLARE_BASE_URL = "http://127.0.0.1:9/client/v4"
    assert client_for_account(account) is not first
