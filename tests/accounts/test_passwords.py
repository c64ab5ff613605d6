"""People change their own password (Django's views, this site's pages), and with EMAIL_URL set
reset a forgotten one by email, which also ends a sign-in lockout."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW = "plum-harbour-sixty-lanterns"


@pytest.fixture
def reset_on(settings):
    settings.PASSWORD_RESET_BY_EMAIL = True
    settings.SITE_URL = "https://billing.example.com"
    return settings


def test_the_header_links_to_the_password_change_page(client, viewer_user):
    client.force_login(viewer_user)
    page = client.get(reverse("topups:home")).content.decode()
    assert f'href="{reverse("password_change")}">Change password</a>' in page


def test_a_user_changes_their_password_and_stays_signed_in(client, viewer_user):
    client.force_login(viewer_user)
    form = client.get(reverse("password_change"))
    assert form.status_code == 200
    assert '<h1 id="password-title">Change password</h1>' in form.content.decode()

    done = client.post(
        reverse("password_change"),
        {"old_password": "pw-victor-viewer", "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )

    assert done.redirect_chain == [(reverse("password_change_done"), 302)]
    assert "Your password is changed." in done.content.decode()
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(NEW)
    assert client.get(reverse("topups:home")).status_code == 200  # still signed in


def test_a_wrong_old_password_changes_nothing_and_says_so(client, viewer_user):
    client.force_login(viewer_user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    viewer_user.refresh_from_db()
    assert viewer_user.check_password("pw-victor-viewer")


def test_without_email_there_is_no_reset(client, settings):
    settings.PASSWORD_RESET_BY_EMAIL = False
    assert client.get(reverse("password_reset")).status_code == 404
    assert client.post(reverse("password_reset"), {"email": "x@example.com"}).status_code == 404
    assert reverse("password_reset") not in client.get(reverse("login")).content.decode()


def test_the_reset_answers_the_same_whether_the_email_is_known_or_not(client, reset_on, account):
    User.objects.create_user("olga", email="olga@example.com", password="old-pw-olga")
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()

    known = client.post(reverse("password_reset"), {"email": "olga@example.com"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [m.to for m in mail.outbox] == [["olga@example.com"]]
    policy = client.get(reverse("password_reset"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy


def test_a_reset_sets_the_password_and_ends_the_sign_in_lockout(client, reset_on, settings):
    user = User.objects.create_user("olga", email="olga@example.com", password="old-pw-olga")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "olga", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "olga", "password": "old-pw-olga"})
    assert locked.status_code == 429
    assert reverse("password_reset") in locked.content.decode()

    client.post(reverse("password_reset"), {"email": "olga@example.com"})
    [email] = mail.outbox
    link = re.search(r"https://billing\.example\.com(/\S+)", email.body).group(1)
    form = client.get(link, follow=True)  # Django moves the token into the session
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True
    )
    assert "Your password is set." in done.content.decode()

    user.refresh_from_db()
    assert user.check_password(NEW)
    signed_in = client.post(reverse("login"), {"username": "olga", "password": NEW})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("topups:home")
