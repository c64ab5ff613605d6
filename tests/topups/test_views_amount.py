"""The amount and review pages: bad input is refused with a clear message and never reaches
Cloudflare."""

import pytest
from django.urls import reverse

from tests.topups.steps import A, confirm
from topups.models import TopUp

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter an amount, for example 50 or 49.99."),
        ("abc", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("-50", "Enter a positive amount."),
        ("0", "The minimum top-up is $10.00."),
        ("0.00", "The minimum top-up is $10.00."),
        ("9.99", "The minimum top-up is $10.00."),
        ("10.001", "Use at most two decimals (whole cents)."),
        ("1e3", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("1E3", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("50,00", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("NaN", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("Infinity", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("0x32", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("\u0665\u0660", "Use the digits 0 to 9."),  # Arabic-Indic 50
        ("\uff15\uff10", "Use the digits 0 to 9."),  # full-width 50
        ("10000.01", "The maximum top-up is $10,000.00."),
        ("99999999999999999999999", "The maximum top-up is $10,000.00."),
        ("9" * 30 + ".99", "The maximum top-up is $10,000.00."),
    ],
)
def test_bad_amounts_are_refused_without_a_create(admin_client, sandbox, amount, message):
    response = admin_client.get(reverse("topups:review", kwargs=A), {"amount": amount})
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [message]
    assert sandbox.requests("create") == []
    assert not TopUp.objects.exists()


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("10", 1000),
        ("50", 5000),
        ("49.99", 4999),
        ("$25.5", 2550),
        ("1,000.00", 100000),
        (" 12.30 ", 1230),
        ("10000", 1000000),
        ("0010.00", 1000),
    ],
)
def test_good_amounts_reach_the_review(admin_client, amount, cents):
    response = admin_client.get(reverse("topups:review", kwargs=A), {"amount": amount})
    assert response.status_code == 200
    assert response.context["form"].initial["amount_cents"] == cents
    assert response["Cache-Control"] == "private, no-cache"


def test_review_refuses_a_tampered_amount(admin_client, sandbox):
    response = confirm(admin_client, amount_cents=999)
    assert response.status_code == 302
    assert not TopUp.objects.exists()
    assert sandbox.requests("create") == []


def test_review_warns_about_an_unfinished_top_up_of_the_same_amount(admin_client, sandbox):
    confirm(admin_client, amount_cents=5000)
    topup = TopUp.objects.get()

    same = admin_client.get(reverse("topups:review", kwargs=A), {"amount": "50"})
    other = admin_client.get(reverse("topups:review", kwargs=A), {"amount": "60"})

    assert same.context["duplicate"] == topup
    assert f"Continue top-up #{topup.pk}" in same.content.decode()
    assert other.context["duplicate"] is None


def test_history_lists_the_accounts_top_ups_newest_first(
    client, viewer_user, make_topup, other_account
):
    for cents in (1000, 2000, 3000):
        make_topup(amount_cents=cents)
    make_topup(account=other_account, amount_cents=9900)
    client.force_login(viewer_user)

    response = client.get(reverse("topups:history", kwargs=A))

    assert [t.amount_cents for t in response.context["page"].object_list] == [3000, 2000, 1000]
    assert b"$99.00" not in response.content
    assert b"New top-up" not in response.content  # viewers cannot top up
