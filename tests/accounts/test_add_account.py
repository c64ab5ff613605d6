"""`manage.py add_account`: an account and its first admin in one step, as the README's
*First run* says."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import CloudflareAccount, Membership
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "plum-harbour-sixty-lanterns"


def add_account(*args, stdin="", **options) -> str:
    out = io.StringIO()
    call_command("add_account", *args, stdout=out, stdin=io.StringIO(stdin), **options)
    return out.getvalue()


def state():
    return (
        list(CloudflareAccount.objects.values_list("account_id", "name", "credential")),
        list(User.objects.values_list("username", "email")),
        list(Membership.objects.values_list("user__username", "account__account_id", "role")),
    )


def test_adds_the_account_a_user_for_the_email_and_their_admin_membership():
    out = add_account(STAGING_ACCOUNT_ID, name="Acme AI", admin="Ops@Example.com")

    account = CloudflareAccount.objects.get(account_id=STAGING_ACCOUNT_ID)
    assert (account.name, account.credential) == ("Acme AI", "api_token")
    user = User.objects.get(username="ops@example.com")
    assert user.email == "ops@example.com"
    assert not user.has_usable_password()
    assert not user.is_staff
    assert Membership.objects.get(user=user, account=account).role == Membership.Role.ADMIN
    assert "python manage.py changepassword ops@example.com" in out


def test_the_account_defaults_to_cloudflare_account_id(settings):
    settings.CLOUDFLARE_ACCOUNT_ID = DEMO_ACCOUNT_ID
    add_account(name="Acme AI", admin="ops@example.com")
    assert CloudflareAccount.objects.get().account_id == DEMO_ACCOUNT_ID


def test_without_an_account_id_nor_cloudflare_account_id_it_refuses(settings):
    settings.CLOUDFLARE_ACCOUNT_ID = ""
    with pytest.raises(CommandError, match="CLOUDFLARE_ACCOUNT_ID"):
        add_account(name="Acme AI", admin="ops@example.com")
    assert state() == ([], [], [])


def test_a_password_from_stdin_is_set_and_never_printed():
    out = add_account(
        STAGING_ACCOUNT_ID,
        name="Acme AI",
        admin="ops@example.com",
        password_from_stdin=True,
        stdin=PASSWORD + "\n",
    )

    assert User.objects.get(username="ops@example.com").check_password(PASSWORD)
    assert PASSWORD not in out
    assert "changepassword" not in out


@pytest.mark.parametrize(
    ("args", "options", "stdin", "error"),
    [
        (["not-an-id"], {}, "", "32 lowercase hexadecimal characters"),
        ([STAGING_ACCOUNT_ID], {"admin": "not an email"}, "", "Enter a valid email address"),
        ([STAGING_ACCOUNT_ID], {"name": " "}, "", "--name"),
        ([STAGING_ACCOUNT_ID], {"password_from_stdin": True}, "12345678\n", "too common"),
        ([STAGING_ACCOUNT_ID], {"password_from_stdin": True}, "", "No password"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(args, options, stdin, error):
    options = {"name": "Acme AI", "admin": "ops@example.com", **options}
    with pytest.raises(CommandError, match=error):
        add_account(*args, stdin=stdin, **options)
    assert state() == ([], [], [])


def test_an_existing_user_with_that_email_becomes_the_admin_and_keeps_their_password():
    user = User.objects.create_user("olga", email="ops@example.com", password=PASSWORD)

    out = add_account(STAGING_ACCOUNT_ID, name="Acme AI", admin="OPS@example.com")

    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN
    assert User.objects.count() == 1
    assert User.objects.get(username="olga").check_password(PASSWORD)
    assert "olga" in out
    assert "changepassword" not in out


def test_an_existing_user_is_not_given_a_password_from_stdin():
    User.objects.create_user("olga", email="ops@example.com", password=PASSWORD)
    with pytest.raises(CommandError, match="changepassword olga"):
        add_account(
            STAGING_ACCOUNT_ID,
            name="Acme AI",
            admin="ops@example.com",
            password_from_stdin=True,
            stdin="another-long-passphrase-42\n",
        )
    assert not CloudflareAccount.objects.exists()
    assert User.objects.get(username="olga").check_password(PASSWORD)


def test_running_it_again_changes_nothing_and_an_account_that_differs_is_refused():
    add_account(STAGING_ACCOUNT_ID, name="Acme AI", admin="ops@example.com")
    before = state()

    again = add_account(STAGING_ACCOUNT_ID, name="Acme AI", admin="ops@example.com")
    assert "nothing changed" in again
    assert state() == before

    with pytest.raises(CommandError, match="already exists"):
        add_account(STAGING_ACCOUNT_ID, name="Other name", admin="ops@example.com")
    with pytest.raises(CommandError, match="already exists"):
        add_account(STAGING_ACCOUNT_ID, name="Acme AI", admin="someone@example.com")
    assert state() == before


def test_an_environment_credential_that_is_not_set_is_named(settings):
    settings.CLOUDFLARE_EMAIL = settings.CLOUDFLARE_API_KEY = ""
    out = add_account(
        STAGING_ACCOUNT_ID, name="Acme AI", admin="ops@example.com", credential="global_key"
    )
    assert CloudflareAccount.objects.get().credential == "global_key"
    assert "set CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY" in out


def test_the_same_run_with_the_password_from_stdin_again_changes_nothing():
    options = {"name": "Acme AI", "admin": "ops@example.com", "password_from_stdin": True}
    add_account(STAGING_ACCOUNT_ID, stdin=PASSWORD + "\n", **options)
    before = state()
    password_hash = User.objects.get().password

    again = add_account(STAGING_ACCOUNT_ID, stdin=PASSWORD + "\n", **options)

    assert "nothing changed" in again
    assert state() == before
    assert User.objects.get().password == password_hash
    with pytest.raises(CommandError, match="keeps their password"):
        add_account(STAGING_ACCOUNT_ID, stdin="another-long-passphrase-42\n", **options)
    assert User.objects.get().password == password_hash
