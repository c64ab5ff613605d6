"""What each event says, in words: the one place Slack messages and emails take their sentences
from (webhooks get the data itself, notifications.models.Notification.payload).

Each type reads these fields of `Notification.data`, and says less when one is missing:

    balance.low                balance_cents, threshold_cents
    auto_topup.failed          error (Cloudflare's words)
    auto_topup.disabled        disabled_reason (Cloudflare's words)
    auto_topup.charged         amount_cents
    topup.completed            topup_id, amount_cents
    topup.failed               topup_id, amount_cents
    topup.outcome_unknown      topup_id, amount_cents
    topup.waiting_for_finance  topup_id, amount_cents, waiting_hours
    test                       (none)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.money import format_cents
from notifications.events import EventType
from notifications.models import Notification


@dataclass(frozen=True)
class Wording:
    title: str  # one line: the email's subject, the Slack message's header
    summary: str  # what happened, in a sentence or two
    link_label: str  # what the link leads to ("Top up", "See the top-up")
    link_url: str  # an absolute address on this site (SITE_URL)
    footer: str = ""  # why the reader gets this, when it needs saying


def describe(notification: Notification) -> Wording:
    account = notification.account
    data: dict[str, Any] = notification.data if isinstance(notification.data, dict) else {}
    return _WORDING.get(notification.type, _unknown)(account.name, data, notification)


def _money(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return format_cents(value)


def _text(data: dict[str, Any], key: str) -> str:
    """Words from Cloudflare (an error, a reason): one short line, or nothing."""
    value = data.get(key)
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def _overview(notification: Notification) -> str:
    account_id = notification.account.account_id
    return settings.SITE_URL + reverse("accounts:overview", kwargs={"account_id": account_id})


def _topup_link(notification: Notification) -> tuple[str, str]:
    """The top-up's page when the event names one, else the account's."""
    topup_id = notification.data.get("topup_id") if isinstance(notification.data, dict) else None
    if isinstance(topup_id, int) and not isinstance(topup_id, bool) and topup_id > 0:
        kwargs = {"account_id": notification.account.account_id, "pk": topup_id}
        return "See the top-up", settings.SITE_URL + reverse("topups:detail", kwargs=kwargs)
    return "See the account", _overview(notification)


def _of(amount: str | None) -> str:
    return f"top-up of {amount}" if amount else "top-up"


def _balance_low(name: str, data: dict[str, Any], n: Notification) -> Wording:
    balance, threshold = _money(data, "balance_cents"), _money(data, "threshold_cents")
    summary = f"The AI Gateway credit balance of {name} is {balance or 'low'}"
    summary += f", below the alert threshold of {threshold}." if threshold else "."
    return Wording(
        title=f"{name}: AI Gateway credits are running low" + (f" ({balance})" if balance else ""),
        summary=summary,
        link_label="Top up",
        link_url=_overview(n),
        footer="You get this once each time it falls below.",
    )


def _auto_topup_failed(name: str, data: dict[str, Any], n: Notification) -> Wording:
    error = _text(data, "error")
    return Wording(
        title=f"{name}: auto top-up failed",
        summary=f"Cloudflare could not charge the auto top-up of {name}"
        + (f" ({error})." if error else ".")
        + " Requests start failing when the credits run out.",
        link_label="Check auto top-up",
        link_url=_overview(n),
    )


def _auto_topup_disabled(name: str, data: dict[str, Any], n: Notification) -> Wording:
    reason = _text(data, "disabled_reason")
    return Wording(
        title=f"{name}: auto top-up was turned off",
        summary=f"Cloudflare turned off auto top-up for {name}"
        + (f" ({reason})." if reason else ".")
        + " Requests start failing when the credits run out.",
        link_label="Check auto top-up",
        link_url=_overview(n),
    )


def _auto_topup_charged(name: str, data: dict[str, Any], n: Notification) -> Wording:
    amount = _money(data, "amount_cents")
    return Wording(
        title=f"{name}: auto top-up charged" + (f" {amount}" if amount else ""),
        summary=f"Auto top-up added {amount or 'credits'} to the AI Gateway credits of {name}.",
        link_label="See the account",
        link_url=_overview(n),
    )


# A top-up's end, per event type: (title, summary), filled with the account's name and "a
# $50.00 top-up".
_TOPUP_OUTCOMES = {
    EventType.TOPUP_COMPLETED: (
        "{name}: {of} completed",
        "The {of} to {name} completed: the credits are on the account.",
    ),
    EventType.TOPUP_FAILED: (
        "{name}: {of} failed",
        "The {of} to {name} failed: no credits were added.",
    ),
    EventType.TOPUP_OUTCOME_UNKNOWN: (
        "{name}: the outcome of a {of} is unknown",
        "Cloudflare could not say whether the {of} to {name} went through. Finance settles it "
        "from Cloudflare's invoices; do not pay again before then.",
    ),
}


def _topup_outcome(name: str, data: dict[str, Any], n: Notification) -> Wording:
    title, summary = _TOPUP_OUTCOMES[EventType(n.type)]
    of = _of(_money(data, "amount_cents"))
    label, url = _topup_link(n)
    return Wording(
        title=title.format(name=name, of=of),
        summary=summary.format(name=name, of=of),
        link_label=label,
        link_url=url,
    )


def _topup_waiting_for_finance(name: str, data: dict[str, Any], n: Notification) -> Wording:
    of = _of(_money(data, "amount_cents"))
    hours = data.get("waiting_hours")
    waited = f"more than {hours} hours" if isinstance(hours, int) and hours > 0 else "too long"
    label, url = _topup_link(n)
    return Wording(
        title=f"{name}: a {of} is waiting for finance",
        summary=f"The {of} to {name} has waited for finance for {waited}.",
        link_label=label,
        link_url=url,
    )


def _test(name: str, data: dict[str, Any], n: Notification) -> Wording:
    return Wording(
        title=f"{name}: test notification",
        summary=f"A test from the notifications page of {name}: this channel works.",
        link_label="See the account",
        link_url=_overview(n),
    )


def _unknown(name: str, data: dict[str, Any], n: Notification) -> Wording:
    return Wording(
        title=f"{name}: {n.type}",
        summary=f"Event {n.type} on {name}.",
        link_label="See the account",
        link_url=_overview(n),
    )


_WORDING: dict[str, Callable[[str, dict[str, Any], Notification], Wording]] = {
    EventType.BALANCE_LOW: _balance_low,
    EventType.AUTO_TOPUP_FAILED: _auto_topup_failed,
    EventType.AUTO_TOPUP_DISABLED: _auto_topup_disabled,
    EventType.AUTO_TOPUP_CHARGED: _auto_topup_charged,
    EventType.TOPUP_COMPLETED: _topup_outcome,
    EventType.TOPUP_FAILED: _topup_outcome,
    EventType.TOPUP_OUTCOME_UNKNOWN: _topup_outcome,
    EventType.TOPUP_WAITING_FOR_FINANCE: _topup_waiting_for_finance,
    EventType.TEST: _test,
}
