import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import CloudflareAccount, Membership

pytestmark = pytest.mark.django_db

EXPECTED_ROLES = {
    ("admin", "023e105f4ecef8ad9ca31a8372d0c353"): "admin",
    ("admin", "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"): "admin",
    ("finance", "023e105f4ecef8ad9ca31a8372d0c353"): "finance",
    ("finance", "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"): "finance",
    ("viewer", "023e105f4ecef8ad9ca31a8372d0c353"): "viewer",
}


def roles():
    return {
        (m.user.username, m.account.account_id): m.role
        for m in Membership.objects.select_related("user", "account")
    }


def test_seed_creates_the_documented_users_and_roles(settings, client):
    settings.BILLING_SANDBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert roles() == EXPECTED_ROLES
    for username in ("admin", "finance", "viewer", "operator"):
        signed_in = client.post(
            reverse("login"), {"username": username, "password": f"{username}-sandbox"}
        )
        assert signed_in.status_code == 302, username
    operator = get_user_model().objects.get(username="operator")
    assert operator.is_staff
    assert operator.is_superuser
    assert not get_user_model().objects.get(username="admin").is_staff


def test_seed_is_idempotent_and_repairs_drift(settings):
    settings.BILLING_SANDBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    Membership.objects.filter(user__username="viewer").update(role="admin")

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert roles() == EXPECTED_ROLES
    assert CloudflareAccount.objects.count() == 2
    assert get_user_model().objects.count() == 4


def test_seed_refuses_outside_sandbox_mode(settings):
    settings.BILLING_SANDBOX = False
    with pytest.raises(CommandError, match="BILLING_SANDBOX"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
