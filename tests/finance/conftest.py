import pytest
from django.utils import timezone

from tests.topups import steps
from topups.models import TopUp
from topups.states import TopUpState


@pytest.fixture
def finance_client(client, finance_user, sandbox_settings):
    client.force_login(finance_user)
    return client


@pytest.fixture
def make_topup(account, admin_user):
    def make(state=TopUpState.COMPLETED, cents=5000, **fields):
        if state == TopUpState.COMPLETED:
            fields.setdefault("completed_at", timezone.now())
        fields.setdefault("created_by", admin_user)
        return TopUp.objects.create(account=account, state=state, amount_cents=cents, **fields)

    return make


@pytest.fixture
def paid_at_cloudflare(account, sandbox):
    """A payment id that Cloudflare (the sandbox) reports as completed."""

    return lambda: steps.paid_at_cloudflare(account, sandbox)
