"""The presentation tags every page and email uses: `|dollars` and `|spend_rate` (cents to text,
through accounts.money) and `{% utc_time %}` (the <time> markup), built into every template."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.template import engines

MINUS = "\u2212"


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (123456, "$1,234.56"),
        (Decimal("123456.5"), "$1,234.57"),  # fractions of a cent round half up
        (Decimal("123456.4"), "$1,234.56"),
        (Decimal("0.4"), "$0.00"),
        (-320, f"{MINUS}$3.20"),  # a real minus sign, as the overview shows a negative balance
        (Decimal("-320.5"), f"{MINUS}$3.21"),
        (12345678901, "$123,456,789.01"),
        (None, ""),
        ("", ""),
    ],
)
def test_dollars(cents, text):
    assert render("{{ cents|dollars }}", cents=cents) == text


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (Decimal("0.0014"), "less than $0.01"),
        (Decimal("352.4"), "$3.52"),
        (Decimal(0), "$0.00"),
        (None, ""),
    ],
)
def test_spend_rate(cents, text):
    assert render("{{ cents|spend_rate }}", cents=cents) == text


def test_utc_time_is_the_time_element_in_utc():
    at = datetime(2025, 3, 3, 16, 5, 9, tzinfo=timezone(timedelta(hours=2)))
    assert render('{% utc_time at "M j, Y H:i" %}', at=at) == (
        '<time datetime="2025-03-03T14:05:09+00:00">Mar 3, 2025 14:05 UTC</time>'
    )
    assert render('{% utc_time at "M j, H:i:s" %}', at=at) == (
        '<time datetime="2025-03-03T14:05:09+00:00">Mar 3, 14:05:09 UTC</time>'
    )


def test_utc_time_defaults_to_date_and_minutes():
    at = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    assert render("{% utc_time at %}", at=at) == (
        '<time datetime="2025-12-31T23:59:00+00:00">Dec 31, 2025 23:59 UTC</time>'
    )


def test_utc_time_bare_leaves_the_zone_to_the_column_header():
    at = datetime(2025, 1, 9, 8, 0, tzinfo=UTC)
    assert render('{% utc_time at "M j, Y" bare=True %}', at=at) == (
        '<time datetime="2025-01-09T08:00:00+00:00">Jan 9, 2025</time>'
    )


def test_utc_time_of_a_date_and_of_nothing():
    assert render('{% utc_time day "M j" bare=True %}', day=date(2025, 2, 1)) == (
        '<time datetime="2025-02-01">Feb 1</time>'
    )
    assert render("{% utc_time at %}", at=None) == ""
