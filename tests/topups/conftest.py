import pytest


@pytest.fixture
def admin_client(client, admin_user, sandbox_settings):
    """A signed-in admin of the demo account, talking to this run's sandbox."""
    client.force_login(admin_user)
    return client
