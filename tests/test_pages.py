import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_needs_a_signed_in_user(client):
    response = client.get(reverse("topups:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'autocomplete="current-password"' in response.content


def test_wrong_password_is_refused_with_a_message(client, admin_user):
    response = client.post(reverse("login"), {"username": "alice-admin", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_home_lists_only_the_users_accounts(client, admin_user, other_account):
    client.force_login(admin_user)
    response = client.get(reverse("topups:home"))
    assert response.status_code == 200
    assert b"Acme AI (production)" in response.content
    assert b"Other Corp" not in response.content


def test_a_user_without_a_role_is_told_whom_to_ask_and_what_to_tell_them(client, stranger):
    client.force_login(stranger)
    page = client.get(reverse("topups:home")).content.decode()
    assert (
        "Ask this site's operator (whoever gave you your sign-in) to give you a role on "
        "a Cloudflare account: tell them your username, <code>sam-stranger</code>."
    ) in page
    assert "add_account" not in page


def test_an_operator_without_a_role_is_told_how_to_add_an_account(client, operator_user):
    client.force_login(operator_user)
    page = client.get(reverse("topups:home")).content.decode()
    assert "<code>python manage.py add_account" in page
    assert f'href="{reverse("admin:accounts_cloudflareaccount_changelist")}"' in page
    assert "No accounts yet" in page
    assert "no role" not in page


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "it has one Cloudflare account, and you have no role on it"),
        (2, "it has 2 Cloudflare accounts, and you have no role on any of them"),
    ],
)
def test_an_operator_without_a_role_on_the_accounts_there_are_is_told_so(
    client, operator_user, account, other_account, count, words
):
    if count == 1:
        other_account.delete()
    client.force_login(operator_user)
    page = client.get(reverse("topups:home")).content.decode()
    assert words in page
    assert f'href="{reverse("admin:accounts_cloudflareaccount_changelist")}"' in page
    assert f'href="{reverse("admin:accounts_membership_changelist")}"' in page
    assert "No accounts yet" not in page
    assert "add_account" not in page


def test_sign_out_is_a_post(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("topups:home")).status_code == 302


def test_error_pages_look_like_the_site(client, admin_user, settings):
    settings.DEBUG = False
    client.force_login(admin_user)
    response = client.get("/accounts/" + "0" * 32 + "/topup/")
    assert response.status_code == 404
    assert b"belongs to an account you are not a member of" in response.content
    assert b"AI Gateway" in response.content


def test_the_browsers_favicon_request_is_answered_with_nothing_and_logs_nothing(client, caplog):
    # Pages name their icon (base.html); the admin's do not, and browsers then ask for this.
    response = client.get("/favicon.ico")
    assert response.status_code == 204
    assert response.content == b""
    assert "max-age" in response["Cache-Control"]  # not asked again on every page
    assert [r for r in caplog.records if r.name == "django.request"] == []
