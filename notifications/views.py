"""The notifications page of an account (thresholds, email, Slack, signed webhooks) and each
channel's delivery log. Every member sees the settings; admins change them and see the logs.

Each change is its own POST URL; an invalid form renders the page again with that form's
errors (400), the others as they were."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AccountRequest, account_view
from accounts.credentials import encryption_configured, open_sealed
from accounts.models import Membership
from accounts.money import format_cents
from billing_portal.pagination import PAGE_PARAMS, keyset_page, query_without
from cloudflare_client import CloudflareConfigurationError
from notifications import selectors, services
from notifications.forms import (
    SECRETS_NEED_KEY,
    EmailForm,
    SlackForm,
    ThresholdForm,
    WebhookForm,
)
from notifications.models import BalanceThreshold, Channel

ADMIN = Membership.Role.ADMIN
ONLY_ADMINS_CHANGE = "Only account admins can change notifications."
ONLY_ADMINS_SEE_LOG = "Only account admins can see the delivery log."
MESSAGES = {
    "threshold_added": "You will be notified when the balance falls below {amount}.",
    "threshold_removed": "The {amount} threshold is removed.",
    "email_set": "Email settings saved.",
    "email_off": "Email notifications are off.",
    "slack_added": "Slack is set up. Send a test event to see a message arrive.",
    "webhook_added": "Webhook added. Copy its signing secret now: it is not shown again.",
    "channel_removed": "Removed {channel}.",
    "test_sent": "A test event is on its way to {channel}: it arrives within a minute.",
}
# The webhook whose secret the account's page shows next, once (its id, never the secret).
NEW_WEBHOOK_SESSION_KEY = "notifications_new_webhook:{account}"
SECRET_SHOWN_WITHIN = timedelta(minutes=10)
LOG_PAGE_SIZE = 25


@login_required
@never_cache  # it may show a new webhook's secret: no copy stays in any cache
@require_GET
@account_view()
def notification_settings(request: AccountRequest, account_id: str) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def threshold_add(request: AccountRequest, account_id: str) -> HttpResponse:
    form = ThresholdForm(request.POST)
    if form.is_valid():
        try:
            services.balance_threshold_add(account=request.account, cents=form.cents())
        except services.SettingRefused as exc:
            form.add_error("amount", forms.ValidationError(exc.message, code=exc.code))
        else:
            amount = format_cents(form.cents())
            messages.success(request, MESSAGES["threshold_added"].format(amount=amount))
            return redirect("notifications:settings", account_id=account_id)
    return _settings_page(request, threshold_form=form)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def threshold_remove(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    threshold = get_object_or_404(BalanceThreshold, account=request.account, pk=pk)
    services.balance_threshold_remove(threshold=threshold)
    amount = format_cents(threshold.cents)
    messages.success(request, MESSAGES["threshold_removed"].format(amount=amount))
    return redirect("notifications:settings", account_id=account_id)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def email_set(request: AccountRequest, account_id: str) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, email_form=form)
    roles = form.roles_chosen()
    services.channel_email_set(account=request.account, roles=roles, user=request.user)
    messages.success(request, MESSAGES["email_set" if roles else "email_off"])
    return redirect("notifications:settings", account_id=account_id)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def slack_add(request: AccountRequest, account_id: str) -> HttpResponse:
    form = SlackForm(request.POST)
    if form.is_valid():
        try:
            services.channel_slack_add(
                account=request.account,
                url=form.cleaned_data["url"],
                event_types=form.event_types_chosen(),
                user=request.user,
            )
        except services.SettingRefused as exc:
            form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
        else:
            messages.success(request, MESSAGES["slack_added"])
            return redirect("notifications:settings", account_id=account_id)
    return _settings_page(request, slack_form=form)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def webhook_add(request: AccountRequest, account_id: str) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            channel = services.channel_webhook_add(
                account=request.account,
                url=form.cleaned_data["url"],
                event_types=form.event_types_chosen(),
                user=request.user,
            )
        except services.SettingRefused as exc:
            form.add_error(None, forms.ValidationError(exc.message, code=exc.code))
        else:
            request.session[NEW_WEBHOOK_SESSION_KEY.format(account=channel.account_id)] = channel.pk
            messages.success(request, MESSAGES["webhook_added"])
            return redirect("notifications:settings", account_id=account_id)
    return _settings_page(request, webhook_form=form)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def channel_remove(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    # Email is turned off by choosing no one, not removed: the account has one, with its log.
    removable = Channel.objects.exclude(kind=Channel.Kind.EMAIL)
    channel = get_object_or_404(removable, account=request.account, pk=pk)
    services.channel_remove(channel=channel)
    messages.success(request, MESSAGES["channel_removed"].format(channel=_name(channel)))
    return redirect("notifications:settings", account_id=account_id)


@login_required
@require_POST
@account_view(role=ADMIN, message=ONLY_ADMINS_CHANGE)
def channel_test(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, account=request.account, pk=pk)
    try:
        services.notify_test(channel=channel, user=request.user)
    except services.SettingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, MESSAGES["test_sent"].format(channel=_name(channel)))
    return redirect("notifications:settings", account_id=account_id)


@login_required
@require_GET
@account_view(role=ADMIN, message=ONLY_ADMINS_SEE_LOG)
def delivery_log(request: AccountRequest, account_id: str, pk: int) -> HttpResponse:
    channel = get_object_or_404(selectors.channel_list(account=request.account), pk=pk)
    page = keyset_page(selectors.delivery_list(channel=channel), request.GET, LOG_PAGE_SIZE)
    return render(
        request,
        "notifications/deliveries.html",
        {
            "channel": channel,
            "page": page,
            "filter_query": query_without(request.GET, *PAGE_PARAMS),
        },
    )


def _settings_page(request: AccountRequest, **bound: forms.Form) -> HttpResponse:
    """The page, with `bound` forms (as posted, with their errors) in place of blank ones."""
    account = request.account
    channels = list(selectors.channel_list(account=account))
    email = next((c for c in channels if c.kind == Channel.Kind.EMAIL), None)
    email_roles = email.email_roles if email and email.is_active else []
    context = {
        "thresholds": selectors.balance_threshold_list(account=account),
        "email": email,
        "email_roles": email_roles,
        "email_recipients": selectors.email_recipient_count(account=account, roles=email_roles),
        "slack": next((c for c in channels if c.kind == Channel.Kind.SLACK), None),
        "webhooks": [c for c in channels if c.kind == Channel.Kind.WEBHOOK],
        "secrets_storable": encryption_configured(),
        "secrets_need_key": SECRETS_NEED_KEY,
        "new_secret": _new_secret(request),
        "can_edit": request.membership.role == ADMIN,
        "threshold_form": ThresholdForm(),
        "email_form": EmailForm(initial={"roles": email_roles}),
        "slack_form": SlackForm(),
        "webhook_form": WebhookForm(),
        **bound,
    }
    return render(request, "notifications/settings.html", context, status=400 if bound else 200)


def _new_secret(request: AccountRequest) -> tuple[Channel, str] | None:
    """The webhook just added by this user, and its secret, on the first view after adding it;
    never again (the session holds only which webhook, never the secret)."""
    pk = request.session.pop(NEW_WEBHOOK_SESSION_KEY.format(account=request.account.pk), None)
    if not isinstance(pk, int):
        return None
    channel = Channel.objects.filter(
        account=request.account,
        kind=Channel.Kind.WEBHOOK,
        pk=pk,
        created_at__gte=timezone.now() - SECRET_SHOWN_WITHIN,
    ).first()
    if channel is None:
        return None
    try:
        return channel, open_sealed(channel.sealed_secret)
    except CloudflareConfigurationError:
        return None


def _name(channel: Channel) -> str:
    """The channel in a sentence: "the webhook to https://example.com", "Slack"…"""
    if channel.kind == Channel.Kind.WEBHOOK:
        return f"the webhook to {selectors.url_origin(channel.url)}"
    return "Slack" if channel.kind == Channel.Kind.SLACK else "the email recipients"
