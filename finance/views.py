"""The finance desk: the queue of top-ups needing a person, confirm (one or many), resolve by
hand with a note, and the CSV export of what the filters select."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AccountRequest, AuthenticatedHttpRequest, account_view
from accounts.models import CloudflareAccount, Membership
from billing_portal.pagination import PAGE_PARAMS, keyset_page, query_without
from finance import user_messages
from finance.access import require_finance_somewhere
from finance.export import csv_lines, export_filename
from finance.forms import BulkConfirmForm, DeskFilterForm, ResolveForm
from finance.outcomes import ConfirmResult, RecordResult, ResolveOutcome
from finance.reconcile import candidate_invoices, invoice_of, reconciliation_report
from finance.selectors import (
    COUNT_CAP,
    KIND_CHOICES,
    QUEUE_KINDS,
    finance_queue_counts,
    finance_topup_list,
)
from finance.services import (
    FinanceRefusal,
    account_reconcile,
    topup_confirm_many,
    topup_confirm_payment,
    topup_resolve,
    topups_record_from_invoices,
)
from topups.access import topup_or_404
from topups.models import TopUp
from topups.selectors import amounts_agree
from topups.services.status import topup_check_now
from topups.states import RESOLVABLE_STATES

PAGE_SIZE = 50


def _desk_filters(
    request: HttpRequest, accounts: QuerySet[CloudflareAccount]
) -> tuple[DeskFilterForm, dict]:
    form = DeskFilterForm(request.GET or None, accounts=accounts)
    filters = form.filters()
    filters.setdefault("kind", "attention")
    return form, filters


@login_required
@require_GET
def desk(request: AuthenticatedHttpRequest) -> HttpResponse:
    accounts = require_finance_somewhere(request.user)
    form, filters = _desk_filters(request, accounts)
    topups = finance_topup_list(accounts=accounts, **filters)
    counts = finance_queue_counts(
        accounts=accounts, **{key: value for key, value in filters.items() if key != "kind"}
    )
    page = keyset_page(topups, request.GET, PAGE_SIZE)
    return render(
        request,
        "finance/desk.html",
        {
            "form": form,
            "kind": filters["kind"],
            "kinds": [(kind, label, counts[kind]) for kind, label in KIND_CHOICES],
            "kind_labels": {kind: label for kind, (label, _) in QUEUE_KINDS.items()},
            "page": page,
            "filter_query": query_without(request.GET, *PAGE_PARAMS),
            "scope_query": query_without(request.GET, *PAGE_PARAMS, "kind"),
            "filters": filters,
            "export_count": counts[filters["kind"]],
            "count_cap": COUNT_CAP,
            "attention_capped": counts["attention"] > COUNT_CAP,
            "export_filename": export_filename(**_export_scope(filters)),
        },
    )


@login_required
@require_POST
@account_view(role=Membership.Role.FINANCE, message=user_messages.ONLY_FINANCE)
def confirm(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    topup = topup_or_404(request, pk)
    result = topup_confirm_payment(topup=topup, user=request.user)
    level = messages.SUCCESS if result == ConfirmResult.CONFIRMED else messages.WARNING
    messages.add_message(request, level, user_messages.CONFIRM_RESULTS[result].format(pk=topup.pk))
    return _back_to_desk(request)


@login_required
@require_POST
def confirm_many(request: AuthenticatedHttpRequest) -> HttpResponse:
    accounts = require_finance_somewhere(request.user)
    form = BulkConfirmForm(request.POST)
    if not form.is_valid():
        raise BadRequest(form.errors.as_text())
    pks = form.cleaned_data["topup"]
    topups = list(TopUp.objects.filter(account__in=accounts, pk__in=pks).select_related("account"))
    if not topups:
        messages.warning(request, user_messages.BULK_NOTHING_SELECTED)
        return _back_to_desk(request)
    results = topup_confirm_many(topups=topups, user=request.user)
    messages.add_message(
        request,
        messages.SUCCESS if results[ConfirmResult.CONFIRMED] == len(topups) else messages.WARNING,
        " ".join(
            [
                user_messages.BULK_SUMMARY.format(
                    confirmed=results[ConfirmResult.CONFIRMED], total=len(topups)
                ),
                *(
                    f"{label}: {results[key]}."
                    for key, label in BULK_RESULT_LABELS.items()
                    if results[key]
                ),
            ]
        ),
    )
    return _back_to_desk(request)


BULK_RESULT_LABELS = {
    ConfirmResult.NOT_COMPLETED: "Still pending at Cloudflare",
    ConfirmResult.MISMATCH: "Invoice for another amount (a person decides)",
    ConfirmResult.NOT_PAID: "Invoice not paid",
    ConfirmResult.GONE: "Cloudflare no longer knows this top-up",
    ConfirmResult.UNREACHABLE: "Cloudflare could not be asked",
    ConfirmResult.OWN: "Started, recorded or resolved by you (another finance member must confirm)",
    ConfirmResult.ALREADY: "Already confirmed or settled",
}


@login_required
@require_http_methods(["GET", "POST"])
@account_view(role=Membership.Role.FINANCE, message=user_messages.ONLY_FINANCE)
def resolve(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    topup = topup_or_404(request, pk)
    invoice = invoice_of(topup=topup)
    invoice_agrees = invoice is None or amounts_agree(topup, invoice)
    cloudflare_status = ""
    if (
        request.method == "GET"
        and topup.payment_intent_id
        and topup.state in RESOLVABLE_STATES
        and invoice_agrees  # else a completed answer would complete it
    ):
        # What Cloudflare says now, before anyone declares it charged or not.
        cloudflare_status = topup_check_now(topup=topup, actor=request.user) or "unreachable"
    candidates = [] if topup.payment_intent_id else candidate_invoices(topup=topup)
    form = ResolveForm(request.POST or None, candidates=candidates)
    refusal = ""
    if form.is_valid():
        try:
            outcome = topup_resolve(
                topup=topup,
                user=request.user,
                charged=form.cleaned_data["outcome"] == ResolveOutcome.CHARGED,
                note=form.cleaned_data["note"],
                invoice_id=form.cleaned_data["invoice"],
                no_invoice_reason=form.cleaned_data["no_invoice_reason"],
            )
        except FinanceRefusal as exc:
            refusal = str(exc)
        else:
            messages.success(request, user_messages.RESOLVED[outcome].format(pk=topup.pk))
            return _back_to_desk(request)
    return render(
        request,
        "finance/resolve.html",
        {
            "topup": topup,
            "form": form,
            "refusal": refusal,
            "events": topup.events.select_related("actor"),
            "candidates": candidates,
            "invoice": invoice,
            "invoice_agrees": invoice_agrees,
            "cloudflare_status": cloudflare_status,
            "next": _safe_next(request),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def reconciliation(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each finance account's top-ups against Cloudflare's invoices, from the cached invoices."""
    accounts = require_finance_somewhere(request.user)
    reports = [
        {"account": account, "report": reconciliation_report(account=account)}
        for account in accounts
    ]
    return render(
        request,
        "finance/reconciliation.html",
        {"reports": reports},
    )


@login_required
@require_POST
def reconcile_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Read the invoices afresh and settle what they prove, for every finance account."""
    for account in require_finance_somewhere(request.user):
        report = account_reconcile(account=account)
        if report.throttled_until:
            messages.warning(
                request,
                user_messages.RECONCILE_THROTTLED.format(
                    account=account, after=report.throttled_until
                ),
            )
            continue
        if not report.invoices_read:
            messages.warning(request, user_messages.INVOICES_UNREADABLE.format(account=account))
            continue
        messages.success(
            request,
            user_messages.RECONCILED.format(
                account=account,
                settled=len(report.settled),
                mismatched=len(report.mismatched),
                unmatched=len(report.unmatched_invoices),
            ),
        )
    return redirect("finance:reconciliation")


@login_required
@require_POST
@account_view(role=Membership.Role.FINANCE, message=user_messages.ONLY_FINANCE)
def record_invoices(request: AccountRequest, account_id: str) -> HttpResponse:
    invoice_ids = request.POST.getlist("invoice")
    if not invoice_ids:
        messages.warning(request, user_messages.RECORD_NOTHING_SELECTED)
        return redirect("finance:reconciliation")
    results = topups_record_from_invoices(
        account=request.account, invoice_ids=invoice_ids, user=request.user
    )
    messages.add_message(
        request,
        messages.SUCCESS
        if results[RecordResult.RECORDED] == len(set(invoice_ids))
        else messages.WARNING,
        " ".join(
            text.format(n=results[key])
            for key, text in user_messages.RECORD_RESULTS.items()
            if results[key]
        ),
    )
    return redirect("finance:reconciliation")


@login_required
@require_GET
def export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    accounts = require_finance_somewhere(request.user)
    _, filters = _desk_filters(request, accounts)
    response = StreamingHttpResponse(
        csv_lines(finance_topup_list(accounts=accounts, **filters)),
        content_type="text/csv; charset=utf-8",
    )
    filename = export_filename(**_export_scope(filters))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _export_scope(filters: dict) -> dict:
    return {key: filters.get(key) for key in ("account", "created_from", "created_to")}


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("finance:desk")


def _back_to_desk(request: HttpRequest) -> HttpResponse:
    return redirect(_safe_next(request))
