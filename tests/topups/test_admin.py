"""The Django admin an operator uses: it lists and shows everything, and changes no money."""

import pytest
from django.urls import reverse

from topups.models import TopUp
from topups.services.transitions import topup_transition
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, operator_user):
    client.force_login(operator_user)
    return client


@pytest.fixture
def topup(make_topup):
    topup = make_topup()
    topup_transition(
        topup=topup,
        to_state=TopUpState.AWAITING_PAYMENT,
        detail={"payment_intent_id": "in_1"},
        client_secret="pi_1_secret_2",
        payment_intent_id="in_1",
    )
    assert TopUp.objects.get().client_secret == "pi_1_secret_2"  # still in the database
    return topup


@pytest.mark.parametrize(
    "url",
    [
        "admin:topups_topup_changelist",
        "admin:topups_topupevent_changelist",
        "admin:accounts_cloudflareaccount_changelist",
        "admin:accounts_membership_changelist",
    ],
)
def test_changelists_open(operator, topup, url):
    assert operator.get(reverse(url), {"q": "x"}).status_code == 200
    assert operator.get(reverse(url)).status_code == 200


def test_top_up_page_is_view_only_and_hides_the_secret(operator, topup):
    response = operator.get(reverse("admin:topups_topup_change", args=[topup.pk]))
    assert response.status_code == 200
    assert b"$50.00 USD" in response.content
    assert b"_secret_" not in response.content
    assert b'name="_save"' not in response.content
    assert (
        operator.post(
            reverse("admin:topups_topup_change", args=[topup.pk]), {"state": "completed"}
        ).status_code
        == 403
    )
    assert operator.get(reverse("admin:topups_topup_add")).status_code == 403
    assert operator.get(reverse("admin:topups_topup_delete", args=[topup.pk])).status_code == 403
    event = topup.events.get()
    assert (
        operator.get(reverse("admin:topups_topupevent_delete", args=[event.pk])).status_code == 403
    )
