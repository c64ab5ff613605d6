"""The notifications page: balance thresholds and email, by role; crafted input is a form error,
never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from notifications.forms import THRESHOLD_MIN_CENTS
from notifications.models import BalanceThreshold, Channel
from notifications.services import MAX_THRESHOLDS
from notifications.views import ONLY_ADMINS_CHANGE
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID

pytestmark = pytest.mark.django_db

A = {"account_id": DEMO_ACCOUNT_ID}
PAGE = reverse("notifications:settings", kwargs=A)
ADD_THRESHOLD = reverse("notifications:threshold_add", kwargs=A)
EMAIL = reverse("notifications:email_set", kwargs=A)


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_admin_adds_thresholds_in_dollars_and_sees_them_largest_first(admin, account):
    first = admin.post(ADD_THRESHOLD, {"threshold-amount": "25"}, follow=True)
    admin.post(ADD_THRESHOLD, {"threshold-amount": "$1,000.50"})

    assert first.redirect_chain == [(PAGE, 302)]
    assert flashed(first) == ["You will be notified when the balance falls below $25.00."]
    assert list(BalanceThreshold.objects.values_list("account", "cents")) == [
        (account.pk, 100050),
        (account.pk, 2500),
    ]
    page = admin.get(PAGE).content.decode()
    assert page.index("$1,000.50") < page.index("$25.00")


def test_the_same_threshold_twice_is_refused_with_a_clear_message(admin, account):
    admin.post(ADD_THRESHOLD, {"threshold-amount": "25"})

    again = admin.post(ADD_THRESHOLD, {"threshold-amount": "25.00"})

    assert again.status_code == 400
    assert again.context["threshold_form"].errors == {
        "amount": ["There is a threshold at $25.00 already."]
    }
    assert BalanceThreshold.objects.count() == 1


def test_an_account_has_at_most_so_many_thresholds(admin, account):
    for dollars in range(1, MAX_THRESHOLDS + 1):
        BalanceThreshold.objects.create(account=account, cents=dollars * 100)

    response = admin.post(ADD_THRESHOLD, {"threshold-amount": "500"})

    assert response.status_code == 400
    assert "at most 10 thresholds" in response.context["threshold_form"].errors["amount"][0]
    assert BalanceThreshold.objects.count() == MAX_THRESHOLDS


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("9" * 4000, "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("9" * 40, "Enter at most $9,999,999.99."),
        ("-5", "Enter a positive amount."),
        ("0.50", "A threshold is at least $1.00."),
        ("1e5", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("\u0661\u0662", "Use the digits 0 to 9."),
        ("", "This field is required."),
    ],
)
def test_a_crafted_amount_is_a_form_error(admin, typed, error):
    response = admin.post(ADD_THRESHOLD, {"threshold-amount": typed})

    assert response.status_code == 400
    assert response.context["threshold_form"].errors == {"amount": [error]}
    assert error.replace("'", "&#x27;") in response.content.decode()
    assert not BalanceThreshold.objects.exists()


def test_the_minimum_threshold_is_a_dollar():
    assert THRESHOLD_MIN_CENTS == 100


def test_a_threshold_is_removed_only_under_its_own_account(admin, account, other_account):
    mine = BalanceThreshold.objects.create(account=account, cents=2500)
    theirs = BalanceThreshold.objects.create(account=other_account, cents=2500)

    wrong = admin.post(reverse("notifications:threshold_remove", kwargs={**A, "pk": theirs.pk}))
    right = admin.post(
        reverse("notifications:threshold_remove", kwargs={**A, "pk": mine.pk}), follow=True
    )

    assert wrong.status_code == 404
    assert flashed(right) == ["The $25.00 threshold is removed."]
    assert list(BalanceThreshold.objects.all()) == [theirs]


def test_email_goes_to_the_roles_chosen_and_none_turns_it_off(admin, account):
    Channel.objects.filter(account=account).delete()  # as for an account added after 0002

    on = admin.post(EMAIL, {"email-roles": ["finance", "admin"]}, follow=True)
    assert flashed(on) == ["Email settings saved."]
    channel = Channel.objects.get(account=account, kind=Channel.Kind.EMAIL)
    assert (channel.email_roles, channel.is_active) == (["admin", "finance"], True)

    off = admin.post(EMAIL, {}, follow=True)
    channel.refresh_from_db()
    assert (channel.email_roles, channel.is_active) == ([], False)
    assert flashed(off) == ["Email notifications are off."]

    admin.post(EMAIL, {"email-roles": ["viewer"]})
    assert list(
        Channel.objects.filter(account=account).values_list("email_roles", "is_active")
    ) == [(["viewer"], True)]


def test_an_unknown_role_is_a_form_error(admin, account):
    response = admin.post(EMAIL, {"email-roles": ["admin", "owner"]})

    assert response.status_code == 400
    assert (
        "owner is not one of the available choices"
        in response.context["email_form"].errors["roles"][0]
    )
    assert not Channel.objects.filter(account=account).exists()


def test_the_page_says_how_many_people_the_email_reaches(admin, account, admin_user, make_member):
    admin_user.email = "alice@example.com"
    admin_user.save()
    make_member("no-address", Membership.Role.ADMIN)  # no email address: not counted
    admin.post(EMAIL, {"email-roles": ["admin"]})

    page = admin.get(PAGE)

    assert "<dd>Admins: 1 person with an email address</dd>" in page.content.decode()


@pytest.mark.parametrize("who", ["finance_user", "viewer_user"])
def test_other_members_see_the_settings_but_cannot_change_them(client, request, account, who):
    BalanceThreshold.objects.create(account=account, cents=2500)
    client.force_login(request.getfixturevalue(who))

    page = client.get(PAGE)
    refused = client.post(ADD_THRESHOLD, {"threshold-amount": "10"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "$25.00" in text
    assert "Only account admins can change notifications." in text
    assert f'action="{PAGE}' not in text  # no form of the page's
    assert refused.status_code == 403
    assert ONLY_ADMINS_CHANGE in refused.content.decode()
    assert BalanceThreshold.objects.count() == 1


def test_a_member_of_another_account_gets_a_404(client, make_member, other_account):
    client.force_login(make_member("sam", Membership.Role.ADMIN, account=other_account))

    assert client.get(PAGE).status_code == 404
    assert client.post(ADD_THRESHOLD, {"threshold-amount": "10"}).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(admin_user, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(ADD_THRESHOLD, {"threshold-amount": "10"})

    assert response.status_code == 403
    assert not BalanceThreshold.objects.exists()


def test_the_overview_links_to_the_page_beside_top_ups_and_invoices(admin, demo):
    overview = admin.get(reverse("accounts:overview", kwargs=A)).content.decode()

    invoices = reverse("accounts:invoices", kwargs=A)
    assert f'<a href="{invoices}">Invoices</a> · <a href="{PAGE}">Notifications</a>' in overview


def test_another_accounts_page_is_404_even_for_an_admin_here(admin):
    url = reverse("notifications:settings", kwargs={"account_id": STAGING_ACCOUNT_ID})
    assert admin.get(url).status_code == 404
