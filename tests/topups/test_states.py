"""The state machine: allowed moves work, every other move is refused, races have one winner."""

import itertools

import pytest
from django.db import IntegrityError, transaction

from tests.concurrency import at_once
from topups.models import TopUp, TopUpEvent
from topups.services.transitions import IllegalTransition, audit_detail, topup_transition
from topups.states import ALLOWED_TRANSITIONS, FINAL_STATES, TopUpState

pytestmark = pytest.mark.django_db

# The machine as the docstring of topups/states.py draws it, written out by hand: a change to the
# table must change this list too, deliberately.
ALLOWED = [
    ("creating", "awaiting_payment"),
    ("creating", "processing"),
    ("creating", "failed"),
    ("creating", "unknown"),
    ("awaiting_payment", "processing"),
    ("awaiting_payment", "completed"),
    ("awaiting_payment", "stale"),
    ("processing", "completed"),
    ("processing", "stale"),
    ("unknown", "completed"),
    ("unknown", "failed"),
    ("stale", "completed"),
    ("stale", "failed"),
]
ALL_PAIRS = list(itertools.product(TopUpState.values, repeat=2))
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


def test_the_table_is_exactly_the_documented_machine():
    in_table = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED_TRANSITIONS[a]]
    assert sorted(in_table) == sorted(ALLOWED)


def test_completed_and_failed_are_final():
    assert {TopUpState.COMPLETED, TopUpState.FAILED} == FINAL_STATES
    assert not ALLOWED_TRANSITIONS[TopUpState.COMPLETED]
    assert not ALLOWED_TRANSITIONS[TopUpState.FAILED]


@pytest.mark.parametrize(("from_state", "to_state"), ALLOWED)
def test_allowed_transition_updates_the_row_and_writes_an_event(
    make_topup, admin_user, from_state, to_state
):
    topup = make_topup(state=from_state)

    assert (
        topup_transition(
            topup=topup, to_state=to_state, actor=admin_user, detail={"reason": "test"}
        )
        is True
    )

    topup.refresh_from_db()
    assert topup.state == to_state
    event = topup.events.get()
    assert (event.from_state, event.to_state, event.actor) == (from_state, to_state, admin_user)
    assert event.detail == {"reason": "test"}
    assert (topup.completed_at is not None) == (to_state == TopUpState.COMPLETED)


@pytest.mark.parametrize(("from_state", "to_state"), FORBIDDEN)
def test_forbidden_transition_is_refused_and_changes_nothing(make_topup, from_state, to_state):
    topup = make_topup(state=from_state)

    with pytest.raises(IllegalTransition):
        topup_transition(topup=topup, to_state=to_state)

    topup.refresh_from_db()
    assert topup.state == from_state
    assert not topup.events.exists()


def test_a_transition_from_a_stale_read_loses(make_topup):
    topup = make_topup(state=TopUpState.AWAITING_PAYMENT)
    seen_by_a = TopUp.objects.get(pk=topup.pk)
    seen_by_b = TopUp.objects.get(pk=topup.pk)

    assert topup_transition(topup=seen_by_a, to_state=TopUpState.PROCESSING) is True
    assert topup_transition(topup=seen_by_b, to_state=TopUpState.COMPLETED) is False

    assert seen_by_b.state == TopUpState.PROCESSING  # refreshed with the winner's state
    assert TopUp.objects.get(pk=topup.pk).state == TopUpState.PROCESSING
    assert TopUpEvent.objects.filter(topup=topup).count() == 1


@pytest.mark.django_db(transaction=True)
def test_of_many_threads_racing_one_transition_exactly_one_wins(make_topup):
    """Nine threads, each with its own connection, read the row in `creating` and try to move
    it on at the same moment; the conditional UPDATE lets exactly one through."""
    topup = make_topup(state=TopUpState.CREATING)
    targets = [TopUpState.FAILED, TopUpState.UNKNOWN, TopUpState.PROCESSING] * 3
    seen = [TopUp.objects.get(pk=topup.pk) for _ in targets]  # all read it in `creating`

    outcomes = at_once(lambda i: topup_transition(topup=seen[i], to_state=targets[i]), len(targets))

    results = list(zip(targets, outcomes, strict=True))
    winners = [to_state for to_state, won in results if won]
    assert len(winners) == 1
    assert TopUp.objects.get(pk=topup.pk).state == winners[0]
    assert TopUpEvent.objects.filter(topup=topup).count() == 1


def test_leaving_awaiting_payment_forgets_the_client_secret(make_topup):
    topup = make_topup(state=TopUpState.AWAITING_PAYMENT, client_secret="pi_1_secret_2")
    topup_transition(topup=topup, to_state=TopUpState.PROCESSING)
    topup.refresh_from_db()
    assert topup.client_secret == ""


def test_fields_change_together_with_the_state(make_topup):
    topup = make_topup()
    topup_transition(
        topup=topup,
        to_state=TopUpState.PROCESSING,
        payment_intent_id="in_abc",
        card_brand="visa",
        card_last4="4242",
        onboarding=True,
    )
    topup.refresh_from_db()
    assert (topup.payment_intent_id, topup.card_display) == ("in_abc", "Visa •••• 4242")


@pytest.mark.parametrize(
    "detail",
    [
        {"client_secret": "x"},
        {"nested": {"api_token": "x"}},
        {"note": "pi_123_secret_abc"},
        {"headers": ["Bearer abc"]},
        {"key": "sk_test_123"},
        {"password": "x"},
    ],
)
def test_the_audit_trail_refuses_secrets(detail):
    with pytest.raises(ValueError, match=r"audit trail|secret"):
        audit_detail(detail)


def test_events_are_append_only(make_topup):
    topup = make_topup()
    topup_transition(topup=topup, to_state=TopUpState.UNKNOWN)
    event = topup.events.get()
    event.detail = {"rewritten": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


# --- database constraints -------------------------------------------------------------------


def test_amount_below_minimum_is_refused_by_the_database(make_topup):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(amount_cents=999)


def test_state_outside_the_machine_is_refused_by_the_database(make_topup):
    topup = make_topup()
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.filter(pk=topup.pk).update(state="refunded")


def test_request_key_is_unique(make_topup):
    first = make_topup()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(request_key=first.request_key)


def test_payment_intent_id_is_unique_per_account_once_known(make_topup, other_account):
    make_topup(payment_intent_id=None)
    make_topup(payment_intent_id=None)  # many rows may not know theirs yet
    make_topup(payment_intent_id="in_1")
    make_topup(account=other_account, payment_intent_id="in_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(payment_intent_id="in_1")


def test_completed_needs_a_completion_time(make_topup):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(state=TopUpState.COMPLETED, completed_at=None)


@pytest.mark.parametrize(
    ("state", "fields"),
    [
        (TopUpState.UNKNOWN, {}),
        (TopUpState.AWAITING_PAYMENT, {}),
        (TopUpState.FAILED, {"payment_intent_id": "in_1"}),
    ],
)
def test_only_a_failed_top_up_without_a_payment_can_be_not_made(make_topup, state, fields):
    """The cap leaves out creates that did not happen: the database keeps that claim honest."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(state=state, create_outcome=TopUp.CreateOutcome.NOT_MADE, **fields)
    make_topup(state=TopUpState.FAILED, create_outcome=TopUp.CreateOutcome.NOT_MADE)


def test_a_made_create_has_its_payment_intent(make_topup):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_topup(state=TopUpState.UNKNOWN, create_outcome=TopUp.CreateOutcome.MADE)
    make_topup(
        state=TopUpState.UNKNOWN, create_outcome=TopUp.CreateOutcome.MADE, payment_intent_id="in_1"
    )


def test_amount_display():
    assert TopUp(amount_cents=123456).amount_display == "$1,234.56"
    assert TopUp(amount_cents=1000).amount_display == "$10.00"
