"""Access control as a URL matrix: anonymous -> sign-in, other tenant -> 404, wrong role -> 403."""

import pytest
from django.urls import reverse

from accounts.cloudflare import client_for_account
from accounts.models import Membership
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID, _member
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


@pytest.fixture
def topup(account, admin_user, sandbox_settings):
    """Awaiting payment, with an id Cloudflare (the sandbox) really issued."""
    created = client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    return TopUp.objects.create(
        account=account,
        created_by=admin_user,
        amount_cents=5000,
        state=TopUpState.AWAITING_PAYMENT,
        payment_intent_id=created.payment_intent_id,
        client_secret=created.client_secret,
    )


def urls(topup):
    a = {"account_id": DEMO_ACCOUNT_ID}
    t = {**a, "pk": topup.pk}
    return {
        "amount": ("get", reverse("topups:amount", kwargs=a)),
        "review": ("get", reverse("topups:review", kwargs=a) + "?amount=50"),
        "confirm": ("post", reverse("topups:confirm", kwargs=a)),
        "detail": ("get", reverse("topups:detail", kwargs=t)),
        "status": ("get", reverse("topups:status", kwargs=t)),
        "pay": ("get", reverse("topups:pay", kwargs=t)),
        "paid": ("post", reverse("topups:paid", kwargs=t)),
        "return": ("get", reverse("topups:return", kwargs=t)),
        "history": ("get", reverse("topups:history", kwargs=a)),
    }


# What each kind of user gets on each URL of the demo account.
# fmt: off
EXPECTED = {
    #              amount review confirm detail status pay  paid return history
    "admin":       (200,   200,   302,    200,   200,   200, 200, 302,   200),
    "other_admin": (200,   200,   302,    200,   200,   403, 403, 403,   200),
    "finance":     (403,   403,   403,    200,   200,   403, 403, 403,   200),
    "viewer":      (403,   403,   403,    200,   200,   403, 403, 403,   200),
    "stranger":    (404,   404,   404,    404,   404,   404, 404, 404,   404),
}
# fmt: on
NAMES = ("amount", "review", "confirm", "detail", "status", "pay", "paid", "return", "history")


@pytest.fixture
def people(admin_user, finance_user, viewer_user, account, other_account):
    stranger = _member("sam-stranger", other_account, Membership.Role.ADMIN)
    return {
        "admin": admin_user,
        "other_admin": _member("olga-admin", account, Membership.Role.ADMIN),
        "finance": finance_user,
        "viewer": viewer_user,
        "stranger": stranger,  # an admin, but of another tenant
    }


@pytest.mark.parametrize("who", list(EXPECTED))
def test_access_matrix(client, people, topup, who, sandbox_settings):
    client.force_login(people[who])
    got = []
    for name in NAMES:
        method, url = urls(topup)[name]
        response = getattr(client, method)(url)
        got.append(response.status_code)
    assert dict(zip(NAMES, got, strict=True)) == dict(zip(NAMES, EXPECTED[who], strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_is_sent_to_sign_in(client, topup, name):
    method, url = urls(topup)[name]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_account_is_404_even_for_an_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("topups:amount", kwargs={"account_id": "0" * 32})).status_code == 404
    # A real account the user has no role on looks exactly the same.
    assert (
        client.get(reverse("topups:amount", kwargs={"account_id": STAGING_ACCOUNT_ID})).status_code
        == 404
    )


def test_top_up_of_another_account_is_404_under_this_one(client, admin_user, other_account):
    other = TopUp.objects.create(account=other_account, created_by=admin_user, amount_cents=5000)
    client.force_login(admin_user)
    url = reverse("topups:detail", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": other.pk})
    assert client.get(url).status_code == 404
