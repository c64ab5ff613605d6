"""Money as text: dollars with thousands separators, a real minus sign (U+2212) below zero; one
formatter for whole and fractional cents."""

from decimal import Decimal

import pytest

from accounts.money import format_cents, format_rate

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (123456, "$1,234.56"),
        (-320, f"{MINUS}$3.20"),
        (-5, f"{MINUS}$0.05"),
    ],
)
def test_whole_cents(cents, text):
    assert format_cents(cents) == text


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (Decimal("1999.5"), "$20.00"),
        (Decimal("-320.4"), f"{MINUS}$3.20"),
        (Decimal("-0.5"), f"{MINUS}$0.01"),
        (Decimal("-0.4"), "$0.00"),  # rounds to nothing: no sign
        (-320, f"{MINUS}$3.20"),
    ],
)
def test_fractional_cents(cents, text):
    assert format_cents(cents) == text


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (Decimal("0.0014"), "less than $0.01"),  # a spend, however small, is not "$0.00"
        (Decimal("0.5"), "$0.01"),
        (Decimal(0), "$0.00"),
        (Decimal("352.4"), "$3.52"),
    ],
)
def test_rates(cents, text):
    assert format_rate(cents) == text
