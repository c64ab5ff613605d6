"""A top-up's outcome (completed, failed, outcome unknown) is written to the outbox by the
transition that reaches it, in its transaction: once, with the top-up's plain data and never a
secret; transitions that tell nobody cost no query more."""

import json

import pytest
from django.db import transaction

from notifications.models import Channel, Delivery, Notification
from tests.concurrency import at_once
from topups.models import TopUp
from topups.services.transitions import topup_transition
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(account):
    return Channel.objects.create(
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url="https://example.com/hook",
        sealed_secret="sealed",
    )


def test_a_completed_top_up_is_told_once_with_its_data(make_topup, hook):
    topup = make_topup(
        state=TopUpState.AWAITING_PAYMENT,
        payment_intent_id="pi_1",
        client_secret="pi_1_secret_abc",
    )

    assert topup_transition(topup=topup, to_state=TopUpState.COMPLETED) is True

    (notification,) = Notification.objects.all()
    topup.refresh_from_db()
    assert notification.type == "topup.completed"
    assert notification.key == f"topup.completed:{topup.pk}"
    assert notification.data == {
        "topup_id": topup.pk,
        "amount_cents": 5000,
        "currency": "usd",
        "origin": "portal",
        "state": "completed",
        "payment_intent_id": "pi_1",
        "created_at": topup.created_at.isoformat(),
        "completed_at": topup.completed_at.isoformat(),
    }
    assert "secret" not in json.dumps(notification.data)
    assert [d.channel for d in Delivery.objects.filter(notification=notification)] == [hook]


def test_a_failed_top_up_carries_its_error_message(make_topup):
    topup = make_topup()

    topup_transition(
        topup=topup,
        to_state=TopUpState.FAILED,
        error_code=1001,
        error_message="The card was declined.",
    )

    (notification,) = Notification.objects.all()
    assert notification.type == "topup.failed"
    assert notification.data["error_message"] == "The card was declined."
    assert notification.data["payment_intent_id"] is None
    assert notification.data["completed_at"] is None


def test_an_outcome_unknown_is_told_and_then_its_resolution(make_topup):
    topup = make_topup()
    topup_transition(topup=topup, to_state=TopUpState.UNKNOWN)
    topup_transition(topup=topup, to_state=TopUpState.COMPLETED, payment_intent_id="pi_9")

    assert list(Notification.objects.order_by("pk").values_list("type", "key")) == [
        ("topup.outcome_unknown", f"topup.outcome_unknown:{topup.pk}"),
        ("topup.completed", f"topup.completed:{topup.pk}"),
    ]


def test_a_transition_rolled_back_leaves_no_notification(make_topup, hook):
    topup = make_topup(state=TopUpState.PROCESSING, payment_intent_id="pi_1")

    def complete_then_fail():
        with transaction.atomic():
            topup_transition(topup=topup, to_state=TopUpState.COMPLETED)
            assert Notification.objects.count() == 1
            raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError, match="fails after the change"):
        complete_then_fail()

    assert TopUp.objects.get(pk=topup.pk).state == TopUpState.PROCESSING
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_notification_that_cannot_be_written_leaves_the_state_unchanged(
    make_topup, hook, monkeypatch
):
    topup = make_topup(state=TopUpState.PROCESSING, payment_intent_id="pi_1")

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is not writable")

    monkeypatch.setattr(Delivery.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        topup_transition(topup=topup, to_state=TopUpState.COMPLETED)

    assert TopUp.objects.get(pk=topup.pk).state == TopUpState.PROCESSING
    assert Notification.objects.count() == 0


def test_a_transition_that_loses_the_race_tells_nobody(make_topup):
    topup = make_topup(state=TopUpState.PROCESSING, payment_intent_id="pi_1")
    stale_copy = TopUp.objects.get(pk=topup.pk)
    topup_transition(topup=topup, to_state=TopUpState.COMPLETED)

    assert topup_transition(topup=stale_copy, to_state=TopUpState.STALE) is False
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_of_threads_racing_to_settle_a_top_up_one_tells(make_topup):
    topup = make_topup(state=TopUpState.UNKNOWN)
    targets = [TopUpState.COMPLETED, TopUpState.FAILED] * 3
    seen = [TopUp.objects.get(pk=topup.pk) for _ in targets]

    won = at_once(lambda i: topup_transition(topup=seen[i], to_state=targets[i]), len(targets))

    assert won.count(True) == 1
    (notification,) = Notification.objects.all()
    assert notification.data["state"] == TopUp.objects.get(pk=topup.pk).state


@pytest.mark.parametrize(
    ("from_state", "to_state", "fields"),
    [
        (TopUpState.CREATING, TopUpState.AWAITING_PAYMENT, {"payment_intent_id": "pi_1"}),
        (TopUpState.CREATING, TopUpState.PROCESSING, {"payment_intent_id": "pi_1"}),
        (TopUpState.PROCESSING, TopUpState.STALE, {"stale_reason": "Still pending."}),
    ],
)
def test_a_transition_that_tells_nobody_costs_no_query_more(
    make_topup, django_assert_num_queries, from_state, to_state, fields
):
    topup = make_topup(
        state=from_state, **({"payment_intent_id": "pi_1"} if from_state != "creating" else {})
    )
    # The savepoint, the conditional UPDATE, the audit event, the savepoint's release.
    with django_assert_num_queries(4) as queries:
        assert topup_transition(topup=topup, to_state=to_state, **fields) is True

    assert not any("notifications_" in query["sql"] for query in queries.captured_queries)
    assert Notification.objects.count() == 0
