"""The top-up flow: amount → review → confirm (create) → pay → result, and its live status."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AccountRequest, AuthenticatedHttpRequest, account_view, memberships_of
from accounts.models import Membership
from accounts.selectors import account_count
from accounts.services import account_limits
from topups import selectors, user_messages
from topups.access import require_payer, topup_or_404
from topups.forms import AmountForm, ConfirmForm
from topups.models import TopUp
from topups.services.create import TopUpCapReached, TopUpNotYours, topup_start, topup_submit
from topups.services.status import topup_browser_confirmed, topup_refresh_status
from topups.states import LIVE_STATES, PENDING_STATES, TopUpState


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = memberships_of(request)
    recent = selectors.topup_list_recent(account_ids=[m.account_id for m in memberships])
    glances = selectors.account_glance_list(memberships=memberships)
    context: dict[str, object] = {
        "memberships": memberships,
        "glances": glances,
        "some_not_fresh": any(g.balance_old or g.balance is None for g in glances),
        "recent": recent,
    }
    if request.user.is_staff and not memberships:  # the operator is told what there is
        context["account_count"] = account_count()
    return render(request, "topups/home.html", context)


@login_required
@require_GET
@account_view(role=Membership.Role.ADMIN, message=user_messages.ONLY_ADMINS_TOP_UP)
def topup_amount(request: AccountRequest, account_id: str) -> HttpResponse:
    limits = account_limits(account=request.account)
    form = AmountForm(limits=limits, initial={"amount": request.GET.get("amount", "")})
    return _render_amount_page(request, form)


def _render_amount_page(request: HttpRequest, form: AmountForm, status: int = 200) -> HttpResponse:
    limits = form.limits
    presets = [
        cents for cents in AmountForm.PRESETS if limits.min_cents <= cents <= limits.max_cents
    ]
    context = {"form": form, "presets": presets}
    return render(request, "topups/amount.html", context, status=status)


@login_required
@require_GET
@account_view(role=Membership.Role.ADMIN, message=user_messages.ONLY_ADMINS_TOP_UP)
def topup_review(request: AccountRequest, account_id: str) -> HttpResponse:
    limits = account_limits(account=request.account)
    form = AmountForm(request.GET, limits=limits)
    if not form.is_valid():
        return _render_amount_page(request, form, status=400)
    amount_cents = form.cleaned_data["amount"]
    confirm = ConfirmForm(
        limits=limits,
        initial={
            "amount_cents": amount_cents,
            # Minted per rendering: the same page resubmitted (double click, back button, two tabs
            # of it) carries the same key and lands on the same top-up.
            "request_key": uuid.uuid4(),
        },
    )
    duplicate = selectors.topup_open_duplicate(
        account=request.account, user=request.user, amount_cents=amount_cents
    )
    response = render(
        request,
        "topups/review.html",
        {
            "form": confirm,
            "amount_cents": amount_cents,
            "amount_input": request.GET.get("amount", ""),
            "duplicate": duplicate,
        },
    )
    # Back/forward shows this same form (and key) again from the browser's history, while any
    # new visit revalidates and gets a fresh key: a deliberate second top-up is a new one.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_POST
@account_view(role=Membership.Role.ADMIN, message=user_messages.ONLY_ADMINS_TOP_UP)
def topup_confirm(request: AccountRequest, account_id: str) -> HttpResponse:
    form = ConfirmForm(request.POST, limits=account_limits(account=request.account))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("topups:amount", account_id=account_id)
    try:
        started = topup_start(
            account=request.account,
            user=request.user,
            amount_cents=form.cleaned_data["amount_cents"],
            request_key=form.cleaned_data["request_key"],
        )
    except TopUpNotYours:
        messages.error(request, user_messages.FORM_ALREADY_USED)
        return redirect("topups:amount", account_id=account_id)
    except TopUpCapReached as exc:
        messages.error(
            request,
            user_messages.CAP_REACHED.format(
                account=request.account.name,
                started=ngettext("%(n)d top-up", "%(n)d top-ups", exc.cap) % {"n": exc.cap},
                retry_at=f"{exc.retry_at:%H:%M}",
            ),
        )
        return redirect("topups:amount", account_id=account_id)
    if started.created:
        topup_submit(topup=started.topup)
    else:
        messages.info(request, user_messages.ALREADY_SUBMITTED)
    return redirect(_next_url(started.topup, request.user))


def _next_url(topup: TopUp, user: User) -> str:
    kwargs = {"account_id": topup.account.account_id, "pk": topup.pk}
    if topup.state == TopUpState.AWAITING_PAYMENT and topup.created_by_id == user.pk:
        return reverse("topups:pay", kwargs=kwargs)
    return reverse("topups:detail", kwargs=kwargs)


@login_required
@never_cache
@require_GET
@account_view()
def topup_pay(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    topup = topup_or_404(request, pk)
    require_payer(request, topup)
    if topup.state != TopUpState.AWAITING_PAYMENT:
        return redirect("topups:detail", account_id=account_id, pk=pk)
    kwargs = {"account_id": account_id, "pk": pk}
    return render(
        request,
        "topups/pay.html",
        {
            "topup": topup,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "payment": {
                "clientSecret": topup.client_secret,
                "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
            },
            "return_url": request.build_absolute_uri(reverse("topups:return", kwargs=kwargs)),
        },
    )


@login_required
@require_POST
@account_view()
def topup_paid(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    """Stripe.js says the payment went through: look the truth up at Cloudflare."""
    topup = topup_or_404(request, pk)
    require_payer(request, topup)
    topup_browser_confirmed(
        topup=topup, user=request.user, stripe_status=request.POST.get("stripe_status", "")
    )
    return _status_response(request, topup)


@login_required
@never_cache
@require_GET
@account_view()
def topup_return(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    """Return URL for redirect-based payment methods. `redirect_status` is not trusted: the
    status is looked up, and the client secret Stripe put in the query string is dropped."""
    topup = topup_or_404(request, pk)
    require_payer(request, topup)
    topup_refresh_status(topup=topup, force=True)
    return redirect("topups:detail", account_id=account_id, pk=pk)


@login_required
@never_cache
@require_GET
@account_view()
def topup_detail(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    topup = topup_or_404(request, pk)
    topup_refresh_status(topup=topup)
    invoice = selectors.topup_invoice(topup=topup)
    return render(
        request,
        "topups/detail.html",
        {
            "topup": topup,
            "invoice": invoice,
            "invoice_mismatch": (
                invoice is not None and invoice.amount_due_cents != topup.amount_cents
            ),
            "events": topup.events.select_related("actor"),
            **_status_context(request, topup),
        },
    )


@login_required
@never_cache
@require_GET
@account_view()
def topup_status(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    """The live status the result page polls: state plus the server-rendered status panel."""
    topup = topup_or_404(request, pk)
    topup_refresh_status(topup=topup)
    return _status_response(request, topup)


def _status_context(request: HttpRequest, topup: TopUp) -> dict[str, object]:
    kwargs = {"account_id": topup.account.account_id, "pk": topup.pk}
    is_payer = topup.created_by_id == request.user.pk
    return {
        "is_payer": is_payer,
        "pay_url": reverse("topups:pay", kwargs=kwargs) if is_payer else "",
        "status_url": reverse("topups:status", kwargs=kwargs),
        "live": topup.state in LIVE_STATES,
    }


def _status_response(request: HttpRequest, topup: TopUp) -> JsonResponse:
    context = {"topup": topup, **_status_context(request, topup)}
    response = JsonResponse(
        {
            "state": topup.state,
            "label": topup.get_state_display(),
            # Nothing more changes by itself: the page stops asking.
            "final": topup.state not in LIVE_STATES,
            "pending": topup.state in PENDING_STATES,
            "next_url": context["pay_url"] if topup.state == TopUpState.AWAITING_PAYMENT else "",
            # Why the status is not moving (Cloudflare slow, unreachable, budget spent): the page
            # says so and asks less often.
            "delayed": topup.status_delay if topup.state in LIVE_STATES else "",
            "html": render_to_string("topups/_status.html", context, request=request),
        }
    )
    response["Cache-Control"] = "no-store"
    return response
