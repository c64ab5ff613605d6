"""The account a URL names, resolved once per request (accounts.access.account_view): what a
missing role is told, the account bar every page of an account shows, and the query parameters
of the account's pages read through forms."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.access import account_view
from accounts.models import Membership
from accounts.views import ONLY_ADMINS_CHANGE_AUTO_TOPUP
from finance.user_messages import ONLY_FINANCE
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID
from topups.user_messages import ONLY_ADMINS_TOP_UP, ONLY_THE_PAYER_PAYS

pytestmark = pytest.mark.django_db
A = {"account_id": DEMO_ACCOUNT_ID}


@account_view(role=Membership.Role.ADMIN, message="Admins only.")
def _admin_page(request, account_id):
    return HttpResponse(f"{request.account.name} {request.membership.role}")


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_the_account_and_membership_are_resolved_once_and_hung_on_the_request(
    admin_user, viewer_user, other_account, django_assert_num_queries
):
    request = _request(admin_user)
    with django_assert_num_queries(1):  # the user's memberships, each with its account
        response = _admin_page(request, account_id=DEMO_ACCOUNT_ID)
    assert response.content == b"Acme AI (production) admin"
    assert request.membership.user == admin_user

    with pytest.raises(Http404):  # another tenant's account is not there at all
        _admin_page(_request(admin_user), account_id=STAGING_ACCOUNT_ID)
    with pytest.raises(PermissionDenied, match=r"^Admins only\.$"):
        _admin_page(_request(viewer_user), account_id=DEMO_ACCOUNT_ID)
    with pytest.raises(Http404):
        _admin_page(_request(AnonymousUser()), account_id=DEMO_ACCOUNT_ID)


TOPUP_URLS = {"topups:pay", "topups:paid", "topups:return", "finance:confirm", "finance:resolve"}


@pytest.mark.parametrize(
    ("who", "method", "name", "message"),
    [
        ("viewer", "get", "topups:amount", ONLY_ADMINS_TOP_UP),
        ("finance", "get", "topups:review", ONLY_ADMINS_TOP_UP),
        ("viewer", "post", "topups:confirm", ONLY_ADMINS_TOP_UP),
        ("viewer", "get", "topups:pay", ONLY_ADMINS_TOP_UP),
        ("other_admin", "get", "topups:pay", ONLY_THE_PAYER_PAYS),
        ("other_admin", "post", "topups:paid", ONLY_THE_PAYER_PAYS),
        ("finance", "get", "topups:return", ONLY_ADMINS_TOP_UP),
        ("viewer", "post", "accounts:auto_topup", ONLY_ADMINS_CHANGE_AUTO_TOPUP),
        ("finance", "post", "accounts:auto_topup_remove", ONLY_ADMINS_CHANGE_AUTO_TOPUP),
        ("admin", "post", "finance:confirm", ONLY_FINANCE),
        ("viewer", "get", "finance:resolve", ONLY_FINANCE),
        ("admin", "post", "finance:record_invoices", ONLY_FINANCE),
    ],
)
def test_a_missing_role_is_a_403_page_that_says_what_it_takes(
    client,
    admin_user,
    viewer_user,
    finance_user,
    second_admin_user,
    make_topup,
    account,
    who,
    method,
    name,
    message,
):
    people = {
        "admin": admin_user,
        "viewer": viewer_user,
        "finance": finance_user,
        "other_admin": second_admin_user,
    }
    topup = make_topup(account=account)
    kwargs = {**A, "pk": topup.pk} if name in TOPUP_URLS else A
    client.force_login(people[who])

    response = getattr(client, method)(reverse(name, kwargs=kwargs))

    assert response.status_code == 403
    assert message in response.content.decode().replace("&#x27;", "'")


ACCOUNT_PAGES = {
    "overview": reverse("accounts:overview", kwargs=A),
    "invoices": reverse("accounts:invoices", kwargs=A),
    "auto_topup": reverse("accounts:auto_topup", kwargs=A),
    "amount": reverse("topups:amount", kwargs=A),
    "review": reverse("topups:review", kwargs=A) + "?amount=50",
    "history": reverse("topups:history", kwargs=A),
}


@pytest.mark.parametrize("page", [*ACCOUNT_PAGES, "detail", "pay"])
def test_every_page_of_an_account_shows_the_account_bar(
    client, admin_user, account, other_account, awaiting_topup, page
):
    Membership.objects.create(user=admin_user, account=other_account, role="viewer")
    client.force_login(admin_user)
    topup_kwargs = {**A, "pk": awaiting_topup.pk}
    url = ACCOUNT_PAGES.get(page) or reverse(f"topups:{page}", kwargs=topup_kwargs)

    html = client.get(url).content.decode()

    overview = reverse("accounts:overview", kwargs=A)
    assert f'<strong><a href="{overview}">Acme AI (production)</a></strong>' in html
    assert '<span class="badge badge--role-admin">Admin</span>' in html
    assert '<span aria-current="true">Acme AI (production) <span class="muted">' in html
    assert f'<a href="{reverse("topups:home")}">Other Corp</a>' in html  # a viewer there


@pytest.mark.parametrize("days", ["", "abc", "31", "-7", "9" * 4400, "7.0"])
def test_cover_days_not_offered_are_the_default_thirty(client, viewer_user, demo, days):
    client.force_login(viewer_user)

    response = client.get(reverse("accounts:overview", kwargs=A), {"days": days})

    assert response.status_code == 200
    assert response.context["cover_days"] == 30


def test_cover_days_offered_are_taken(client, viewer_user, demo):
    client.force_login(viewer_user)

    response = client.get(reverse("accounts:overview", kwargs=A), {"days": "90"})

    assert response.context["cover_days"] == 90
    assert response.context["cover_choices"] == (7, 30, 90)


@pytest.mark.parametrize("kind", ["", "AUTO", "other", "x" * 4400])
def test_an_invoice_kind_not_offered_lists_them_all(client, viewer_user, demo, kind):
    client.force_login(viewer_user)
    everything = client.get(reverse("accounts:invoices", kwargs=A)).context["invoices"]

    response = client.get(reverse("accounts:invoices", kwargs=A), {"type": kind})

    assert response.status_code == 200
    assert response.context["kind"] == "all"
    assert response.context["invoices"] == everything
