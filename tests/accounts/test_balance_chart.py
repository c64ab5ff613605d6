"""The balance over the last days, reconstructed backwards from the balance now through the
daily usage and the paid invoices; hand-computed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from accounts.charts import Credit, balance_chart, balance_history, credits_from_invoices
from cloudflare_client import Invoice, UsageBucket

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
MAR = {day: datetime(2026, 3, day, tzinfo=UTC) for day in range(7, 12)}
DAILY = [  # $24 a day on the 8th and 9th ($1 an hour); $6 so far today (12 hours)
    UsageBucket("d8", Decimal(2400), MAR[8], MAR[9]),
    UsageBucket("d9", Decimal(2400), MAR[9], MAR[10]),
    UsageBucket("d10", Decimal(600), MAR[10], MAR[11]),
]
AUTO = Credit(MAR[9] + timedelta(hours=6), Decimal(5000), auto=True)
BY_HAND = Credit(MAR[10] + timedelta(hours=6), Decimal(2000), auto=False)
BEFORE, AFTER = Credit(MAR[7], Decimal(9999), False), Credit(NOW + timedelta(1), Decimal(1), False)


def history():
    return balance_history(
        balance_cents=Decimal(10000), daily=DAILY, credits=[BY_HAND, AFTER, AUTO, BEFORE], now=NOW
    )


def test_the_balance_backwards_from_now():
    """$100 now. This morning at 6 it was $103 after $20 by hand ($83 before it), $86 at
    midnight; yesterday $104 after the $50 auto top-up at 6 ($54 before it), $60 at midnight;
    $84 the day before. Credits outside the days are left out."""
    assert history().points == (
        (MAR[8], Decimal(8400)),
        (MAR[9], Decimal(6000)),
        (AUTO.at, Decimal(5400)),
        (AUTO.at, Decimal(10400)),
        (MAR[10], Decimal(8600)),
        (BY_HAND.at, Decimal(8300)),
        (BY_HAND.at, Decimal(10300)),
        (NOW, Decimal(10000)),
    )


def test_the_days_close_with_their_balance_and_their_credits():
    assert history().days == (
        (MAR[8], Decimal(6000), ()),
        (MAR[9], Decimal(8600), (AUTO,)),
        (MAR[10], Decimal(10000), (BY_HAND,)),  # today: now
    )
    assert history().credits == ((AUTO, Decimal(10400)), (BY_HAND, Decimal(10300)))


def test_no_usage_no_history():
    assert balance_history(balance_cents=Decimal(1), daily=[], credits=[], now=NOW) is None
    assert balance_chart(None, label_format="%b %-d") is None


def test_the_chart_runs_from_zero_to_the_highest_balance_and_marks_each_credit():
    chart = balance_chart(history(), label_format="%b %-d")

    # 60 hours across 600 units; $0 at the baseline (146), $104 at the top (26).
    assert chart.line.split()[:4] == ["0.0,49.08", "240.0,76.77", "300.0,83.69", "300.0,26.0"]
    assert chart.line.split()[-1] == "600.0,30.62"
    assert (chart.zero_y, chart.high_cents, chart.low_cents) == (146.0, 10400, 0)
    auto, by_hand = chart.marks
    assert (auto.x, auto.y, auto.auto, auto.cents) == (300.0, 26.0, True, 5000)
    assert (by_hand.x, by_hand.y, by_hand.auto) == (540.0, 27.15, False)
    assert (chart.first_label, chart.last_label) == ("Mar 8", "Mar 10")


def test_a_balance_below_zero_moves_the_zero_line_up():
    past = balance_history(
        balance_cents=Decimal(-1000), daily=DAILY[:1], credits=[], now=MAR[9]
    )  # -$10 now after $24 spent: $14 at the start
    chart = balance_chart(past, label_format="%b %-d")
    assert past.points == ((MAR[8], Decimal(1400)), (MAR[9], Decimal(-1000)))
    assert chart.zero_y == round(26 + 1400 / 2400 * 120, 2)  # 70.0
    assert chart.low_cents == -1000


def test_paid_invoices_are_credits_auto_top_ups_told_apart():
    def invoice(status, origin, created=MAR[9]):
        return Invoice(
            "in_1",
            Decimal(5000),
            Decimal(5000) if status == "paid" else Decimal(0),
            Decimal(0),
            "usd",
            status,
            created,
            None,
            None,
            origin,
            None,
            None,
            None,
            None,
        )

    credits = credits_from_invoices(
        [
            invoice("paid", "auto"),
            invoice("paid", "manual"),
            invoice("open", "manual"),
            invoice("paid", "manual", created=None),
        ]
    )
    assert credits == [Credit(MAR[9], Decimal(5000), True), Credit(MAR[9], Decimal(5000), False)]
