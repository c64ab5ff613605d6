"""The account's own pages: the overview (balance, card, auto top-up, usage, runway)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import membership_or_404
from accounts.charts import bar_chart
from accounts.money import format_cents_fraction
from accounts.runway import runway
from accounts.selectors import membership_list_for_user
from accounts.snapshots import account_balance, account_daily_usage, account_hourly_usage

COVER_DAYS = (7, 30, 90)


@login_required
@require_GET
def overview(request, account_id):
    membership = membership_or_404(request.user, account_id)
    account = membership.account
    balance = account_balance(account=account)
    daily = account_daily_usage(account=account)
    hourly = account_hourly_usage(account=account)
    try:
        cover_days = int(request.GET.get("days", 30))
    except ValueError:
        cover_days = 30
    cover_days = cover_days if cover_days in COVER_DAYS else 30
    context = {
        "membership": membership,
        "account": account,
        "memberships": membership_list_for_user(user=request.user),
        "balance": balance,
        "balance_display": format_cents_fraction(balance.value.balance_cents) if balance else "",
        "daily_chart": bar_chart(daily.value, label_format="%b %-d") if daily else None,
        "hourly_chart": bar_chart(hourly.value, label_format="%a %H:00") if hourly else None,
        "cover_days": cover_days,
        "cover_choices": COVER_DAYS,
    }
    if balance and balance.value.auto_topup.configured:
        context["auto_threshold"] = format_cents_fraction(balance.value.auto_topup.threshold_cents)
        context["auto_amount"] = format_cents_fraction(balance.value.auto_topup.amount_cents)
    if balance and daily:
        estimate = runway(
            balance_cents=balance.value.balance_cents, daily=daily.value, now=timezone.now()
        )
        context["runway"] = estimate
        context["burn_display"] = format_cents_fraction(estimate.burn_cents_per_day)
        cover = estimate.cover_cents(cover_days, balance.value.balance_cents)
        context["cover_cents"] = cover
        context["cover_dollars"] = f"{cover // 100}"
    return render(request, "accounts/overview.html", context)
