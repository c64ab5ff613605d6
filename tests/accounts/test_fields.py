"""DollarsField: every form that takes dollars (the top-up amount, auto top-up) reads them one
way, cleans them to whole cents, and names its limits from the cents."""

import pytest
from django import forms
from django.urls import reverse

from accounts.fields import DollarsField, cents_as_text
from accounts.forms import AutoTopUpForm
from cloudflare_client.minimums import AUTO_TOPUP_THRESHOLD_MIN_CENTS, TOPUP_MIN_CENTS
from tests.conftest import DEMO_ACCOUNT_ID
from tests.test_crafted_input import CRAFTED

INVALID = "Enter an amount in dollars using digits, for example 50 or 49.99."
A = {"account_id": DEMO_ACCOUNT_ID}


def field(**kwargs) -> DollarsField:
    return DollarsField(**{"min_cents": 0, "max_cents": 1_000_000, **kwargs})


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("49.99", 4999),
        ("$1,234.56", 123456),
        ("$25.5", 2550),
        ("1,000.00", 100000),
        (" 12.30 ", 1230),
        ("1 000", 100000),
        ("1\u00a0000", 100000),
        ("0010.00", 1000),
        ("0", 0),
        ("0" * 60 + "12", 1200),
    ],
)
def test_dollars_are_cleaned_to_whole_cents(text, cents):
    assert field().clean(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", INVALID),
        ("1e3", INVALID),
        ("1E3", INVALID),
        ("+5", INVALID),
        ("50,00", INVALID),
        ("1,0000", INVALID),
        (".5", INVALID),
        ("7.", INVALID),
        ("$", INVALID),
        ("0x32", INVALID),
        ("NaN", INVALID),
        ("Infinity", INVALID),
        ("-Infinity", "Enter a positive amount."),
        ("-50", "Enter a positive amount."),
        ("$-5", "Enter a positive amount."),
        ("\u22125", "Enter a positive amount."),
        ("10.001", "Use at most two decimals (whole cents)."),
        ("\u0665\u0660", "Use the digits 0 to 9."),  # Arabic-Indic 50
        ("\uff15\uff10", "Use the digits 0 to 9."),  # full-width 50
        ("9" * 4000, INVALID),  # refused as text, never made a number
        ("9" * 30 + ".99", "Enter at most $10,000.00."),
        ("10000.01", "Enter at most $10,000.00."),
    ],
)
def test_anything_else_is_refused_with_a_clear_message(text, message):
    with pytest.raises(forms.ValidationError) as refused:
        field().clean(text)
    assert refused.value.messages == [message]


def test_the_limits_are_named_from_the_cents():
    limited = DollarsField(
        min_cents=2550,
        max_cents=123_456,
        error_messages={"min_value": "At least {minimum}.", "max_value": "At most {maximum}."},
    )
    for text, message in (("25.49", "At least $25.50."), ("1234.57", "At most $1,234.56.")):
        with pytest.raises(forms.ValidationError) as refused:
            limited.clean(text)
        assert refused.value.messages == [message]
    assert limited.clean("25.50") == 2550
    assert limited.clean("1,234.56") == 123456


def test_empty_is_required_unless_optional():
    with pytest.raises(forms.ValidationError):
        field().clean("  ")
    assert field(required=False).clean("  ") is None


@pytest.mark.parametrize("cents", [0, 1, 99, 1000, 2550, 4999, 123456, 999_999_999])
def test_cents_as_text_reads_back_as_the_same_cents(cents):
    assert field(max_cents=999_999_999).clean(cents_as_text(cents)) == cents
    assert field().prepare_value(cents) == cents_as_text(cents)


def test_cents_are_shown_as_dollars_in_the_input():
    form = AutoTopUpForm(initial={"threshold": 2550})
    assert 'value="25.50"' in str(form["threshold"])
    assert 'inputmode="decimal"' in str(form["threshold"])


def test_the_auto_top_up_minimums_are_cloudflares():
    form = AutoTopUpForm({"threshold": "4.99", "amount": "9.99"})

    assert form.errors == {
        "threshold": ["The threshold is at least $5.00."],
        "amount": ["The amount is at least $10.00."],
    }
    assert form.fields["threshold"].min_cents == AUTO_TOPUP_THRESHOLD_MIN_CENTS
    assert form.fields["amount"].min_cents == TOPUP_MIN_CENTS


def test_the_auto_top_up_form_takes_what_the_top_up_amount_takes():
    form = AutoTopUpForm({"threshold": "$1,000", "amount": " 10.5 "})
    assert form.is_valid()
    assert form.cents() == (1050, 100000)


# --- crafted input on the pages that take dollars (the model: tests/test_crafted_input.py) ------

DOLLARS = {**CRAFTED, "4,000 digits": "9" * 4000, "NaN": "NaN", "Infinity": "Infinity"}


@pytest.mark.django_db
@pytest.mark.parametrize("value", list(DOLLARS.values()), ids=list(DOLLARS))
def test_crafted_dollars_are_refused_with_a_message_and_nothing_is_sent(
    client, admin_user, account, demo, value
):
    client.force_login(admin_user)
    demo.control("DELETE", "requests")

    review = client.get(reverse("topups:review", kwargs=A), {"amount": value})
    auto = client.post(
        reverse("accounts:auto_topup", kwargs=A), {"threshold": value, "amount": value}
    )

    assert (review.status_code, auto.status_code) == (400, 400)
    assert review.context["form"].errors["amount"]
    assert set(auto.context["form"].errors) == {"threshold", "amount"}
    assert demo.requests("config") == demo.requests("create") == []
