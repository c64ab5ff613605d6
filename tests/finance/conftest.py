import pytest

from tests.topups import steps


@pytest.fixture
def finance_client(client, finance_user, sandbox_settings):
    client.force_login(finance_user)
    return client


@pytest.fixture
def paid_at_cloudflare(account, sandbox):
    """A payment id that Cloudflare (the sandbox) reports as completed."""

    return lambda: steps.paid_at_cloudflare(account, sandbox)
