"""The account's own pages: the overview (balance, card, auto top-up, usage, runway), the
invoices, and the auto top-up settings. The account bar's data comes from
accounts.context_processors.account_bar."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AccountRequest, account_view, require_role
from accounts.charts import balance_chart, balance_history, bar_chart, credits_from_invoices
from accounts.cloudflare import credential_problem
from accounts.fields import cents_as_text
from accounts.forms import AutoTopUpForm, CoverDaysForm, InvoiceKindForm
from accounts.models import CloudflareAccount, Membership
from accounts.money import format_cents
from accounts.runway import auto_topup_forecast, auto_topup_health, runway
from accounts.services import (
    AUTO_TOPUP_MESSAGES,
    AutoTopUpRefused,
    account_auto_topup_remove,
    account_auto_topup_set,
    account_limits,
)
from accounts.snapshots import (
    Snapshot,
    account_balance,
    account_daily_usage,
    account_hourly_usage,
    account_invoices,
    snapshot_of_all,
)
from cloudflare_client import CreditBalance, UsageBucket

ONLY_ADMINS_CHANGE_AUTO_TOPUP = "Only account admins can change auto top-up."


@login_required
@require_GET
@account_view()
def overview(request: AccountRequest, account_id: str) -> HttpResponse:
    account = request.account
    balance = account_balance(account=account)
    daily = account_daily_usage(account=account)
    hourly = account_hourly_usage(account=account)
    cover_days = CoverDaysForm(request.GET).value()
    context: dict[str, object] = {
        "balance": balance,
        "credential_problem": credential_problem(account),
        "daily_chart": bar_chart(daily.value, label_format="%b %-d") if daily else None,
        "hourly_chart": bar_chart(hourly.value, label_format="%a %H:00") if hourly else None,
        "usage_read": snapshot_of_all(daily, hourly),
        "cover_days": cover_days,
        "cover_choices": CoverDaysForm.CHOICES,
    }
    if balance:
        now = timezone.now()
        estimate = runway(
            balance_cents=balance.value.balance_cents,
            daily=daily.value if daily else None,
            now=now,
        )
        context["runway"] = estimate
        context["auto_topup"] = auto_topup_health(balance.value.auto_topup)
        context["forecast"] = auto_topup_forecast(balance=balance.value, estimate=estimate, now=now)
        context.update(_balance_chart(account, balance.value, daily, now))
        if daily:  # without the usage there is no rate to cover days at
            limits = account_limits(account=account)  # those the amount page checks
            cover = estimate.cover_cents(cover_days, balance.value.balance_cents, limits)
            context["cover_cents"] = cover
            context["cover_dollars"] = cents_as_text(cover)
    return render(request, "accounts/overview.html", context)


def _balance_chart(
    account: CloudflareAccount,
    balance: CreditBalance,
    daily: Snapshot[list[UsageBucket]] | None,
    now: datetime,
) -> dict[str, object]:
    """The balance over the usage's days, from the balance now back through the usage and the
    paid invoices (every top-up, whoever started it, and every auto top-up); none without both
    reads, or when the invoices held do not reach back that far."""
    if not daily or not daily.value:
        return {}
    since = daily.value[0].start
    invoices = account_invoices(account=account, back_to=since)
    if not invoices or not invoices.value.reaches(since):
        return {"balance_chart_missing": True}
    history = balance_history(
        balance_cents=balance.balance_cents,
        daily=daily.value,
        credits=credits_from_invoices(invoices.value),
        now=now,
    )
    return {
        "balance_chart": balance_chart(history, label_format="%b %-d"),
        "invoices_read": invoices,
    }


@login_required
@require_GET
@account_view()
def invoices(request: AccountRequest, account_id: str) -> HttpResponse:
    snapshot = account_invoices(account=request.account)
    kind = InvoiceKindForm(request.GET).value()
    invoices = [
        invoice
        for invoice in (snapshot.value if snapshot else [])
        if kind == "all" or invoice.invoice_origin == kind
    ]
    return render(
        request,
        "accounts/invoices.html",
        {
            "snapshot": snapshot,
            "credential_problem": credential_problem(request.account),
            "invoices": invoices,
            "kind": kind,
            "kinds": InvoiceKindForm.KINDS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@account_view()
def auto_topup(request: AccountRequest, account_id: str) -> HttpResponse:
    if request.method == "POST":  # every member sees the settings; admins change them
        require_role(
            request.membership, Membership.Role.ADMIN, message=ONLY_ADMINS_CHANGE_AUTO_TOPUP
        )
    account = request.account
    form = AutoTopUpForm(request.POST or None)
    refusal = None
    if form.is_valid():
        amount, threshold = form.cents()
        try:
            account_auto_topup_set(account=account, amount_cents=amount, threshold_cents=threshold)
        except AutoTopUpRefused as exc:
            refusal = exc
        else:
            messages.success(
                request,
                AUTO_TOPUP_MESSAGES["saved"].format(
                    threshold=format_cents(threshold), amount=format_cents(amount)
                ),
            )
            return redirect("accounts:auto_topup", account_id=account_id)
    balance = account_balance(account=account)
    return render(
        request,
        "accounts/auto_topup.html",
        {
            "form": form,
            "refusal": refusal,
            "config": balance.value.auto_topup if balance else None,
            "credential_problem": credential_problem(account),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
@account_view(role=Membership.Role.ADMIN, message=ONLY_ADMINS_CHANGE_AUTO_TOPUP)
def auto_topup_remove(request: AccountRequest, account_id: str) -> HttpResponse:
    try:
        account_auto_topup_remove(account=request.account)
    except AutoTopUpRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, AUTO_TOPUP_MESSAGES["removed"])
    return redirect("accounts:auto_topup", account_id=account_id)
