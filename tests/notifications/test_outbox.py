"""notify(): one outbox row per event key, one delivery per channel that takes it."""

import pytest
from django.db import transaction

from notifications.events import EventType
from notifications.models import Channel, Delivery, Notification
from notifications.services import notify

pytestmark = pytest.mark.django_db


def webhook(account, **fields):
    return Channel.objects.create(
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url="https://example.com/hook",
        sealed_secret="sealed",
        **fields,
    )


def test_an_event_gets_a_pending_delivery_per_channel_that_takes_it(account):
    everything = webhook(account)
    only_completed = webhook(account, event_types=[EventType.TOPUP_COMPLETED])
    webhook(account, is_active=False)

    notification = notify(account=account, type=EventType.BALANCE_LOW, key="k1", data={"a": 1})

    assert notification is not None
    assert notification.event_id.startswith("evt_")
    deliveries = Delivery.objects.filter(notification=notification)
    assert [d.channel for d in deliveries] == [everything]
    assert deliveries[0].state == Delivery.State.PENDING
    test = notify(account=account, type=EventType.TEST, key="k2", data={})
    assert {d.channel for d in test.deliveries.all()} == {everything, only_completed}


def test_the_same_key_is_written_once_and_leaves_the_callers_transaction_usable(account):
    webhook(account)
    with transaction.atomic():
        first = notify(account=account, type=EventType.TOPUP_COMPLETED, key="topup:1", data={})
        again = notify(account=account, type=EventType.TOPUP_COMPLETED, key="topup:1", data={})
        account.name = "Still writable"
        account.save()

    assert first is not None
    assert again is None
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_the_payload_is_what_receivers_get(account):
    notification = notify(
        account=account, type=EventType.BALANCE_LOW, key="k", data={"balance_cents": 900}
    )

    payload = notification.payload()
    assert payload == {
        "id": notification.event_id,
        "type": "balance.low",
        "created": int(notification.created_at.timestamp()),
        "account_id": account.account_id,
        "data": {"balance_cents": 900},
    }


@pytest.mark.default_channels
def test_a_new_account_emails_its_admins_and_finance(account):
    channels = Channel.objects.filter(account=account)

    assert [(c.kind, c.email_roles) for c in channels] == [("email", ["admin", "finance"])]
    account.name = "Renamed"
    account.save()
    assert channels.count() == 1
