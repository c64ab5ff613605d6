"""Crafted input: every id or cursor a URL, query string or form carries, at sizes no page ever
sends. An id the database cannot hold is a clean 404 in a path, a 400 in a query or form, and
never a 500 (Python refuses int() of more than 4,300 digits; SQLite raises OverflowError past 64
bits, PostgreSQL a DataError). And `/healthz` answers a load balancer that probes by IP address."""

import pytest
from django.urls import reverse

from finance.user_messages import BULK_NOTHING_SELECTED
from tests.conftest import DEMO_ACCOUNT_ID
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db

CRAFTED = {
    "20 digits": "9" * 20,
    "2**63": str(2**63),
    "4,400 digits": "9" * 4400,
    "negative": "-1",
    "zero": "0",
    "not a number": "7x",
    "non-ASCII digits": "\u0661\u0662",  # Arabic-Indic 12: str.isdecimal() says yes
}

A = {"account_id": DEMO_ACCOUNT_ID}
LIVE = {
    "live": reverse("topups:history_live", kwargs=A),
    "live_all": reverse("topups:history_live_all"),
}

# (who, URL, query): lists paged by a keyset cursor.
PAGED = {
    "history": ("admin", reverse("topups:history", kwargs=A), {}),
    "history_all": ("admin", reverse("topups:history_all"), {}),
    "desk": ("finance", reverse("finance:desk"), {"kind": "all"}),
}


@pytest.fixture
def people(admin_user, finance_user):
    return {"admin": admin_user, "finance": finance_user}


@pytest.fixture
def topup(account, admin_user):
    return TopUp.objects.create(account=account, created_by=admin_user, amount_cents=5000)


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(LIVE))
def test_a_crafted_id_in_the_live_rows_is_a_bad_request(client, admin_user, topup, name, value):
    client.force_login(admin_user)
    alone = client.get(LIVE[name], {"rows": f"{value}:{TopUpState.PROCESSING}"})
    beside_a_real_one = client.get(
        LIVE[name], {"rows": f"{topup.pk}:{topup.state},{value}:{TopUpState.PROCESSING}"}
    )

    assert (alone.status_code, beside_a_real_one.status_code) == (400, 400)


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(PAGED))
def test_a_crafted_cursor_shows_the_newest_page(client, people, topup, name, value):
    """As any cursor that leads nowhere does (billing_portal/pagination.py)."""
    who, url, query = PAGED[name]
    client.force_login(people[who])
    for cursor in (f"1700000000000000.{value}", f"{value}.{topup.pk}"):
        for direction in ("older", "newer"):
            response = client.get(url, {**query, direction: cursor})

            assert response.status_code == 200, (cursor[:40], direction)
            assert list(response.context["page"].object_list) == [topup]


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
def test_a_crafted_id_in_bulk_confirm_is_a_bad_request(client, finance_user, topup, value):
    client.force_login(finance_user)
    alone = client.post(reverse("finance:confirm_many"), {"topup": [value]})
    beside_a_real_one = client.post(reverse("finance:confirm_many"), {"topup": [topup.pk, value]})

    assert (alone.status_code, beside_a_real_one.status_code) == (400, 400)
    assert not topup.events.exists()  # nothing was tried


def test_bulk_confirm_with_nothing_ticked_still_says_so(client, finance_user):
    client.force_login(finance_user)

    response = client.post(reverse("finance:confirm_many"), follow=True)

    assert response.redirect_chain == [(reverse("finance:desk"), 302)]
    assert [str(m) for m in response.context["messages"]] == [BULK_NOTHING_SELECTED]
