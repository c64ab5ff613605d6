"""The words of Slack messages and emails come from the data the producers really write: an
event read through notifications.wording says everything its producer put in it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from finance.waiting import topups_waiting_for_finance_notify
from notifications.models import BalanceThreshold, Notification
from notifications.wording import describe
from tests.notifications.test_events_balance import read, trouble
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def test_a_low_balance_says_the_balance_and_the_threshold(account):
    BalanceThreshold.objects.create(account=account, cents=2500)
    read(account, 1250)

    words = describe(Notification.objects.get(type="balance.low"))
    assert "$12.50" in words.summary
    assert "$25.00" in words.summary


def test_auto_top_up_turned_off_says_cloudflares_reason(account):
    read(account, 9000, auto_topup=trouble(reason="payment_failed"))

    words = describe(Notification.objects.get(type="auto_topup.disabled"))
    assert "payment_failed" in words.summary


def test_a_top_up_waiting_for_finance_says_how_long(make_topup, settings):
    settings.FINANCE_WAIT_HOURS = 30
    topup = make_topup(state=TopUpState.UNKNOWN)
    TopUp.objects.filter(pk=topup.pk).update(updated_at=timezone.now() - timedelta(hours=31))
    topups_waiting_for_finance_notify()

    words = describe(Notification.objects.get(type="topup.waiting_for_finance"))
    assert "more than 30 hours" in words.summary
    assert "$50.00" in words.summary
