"""Reads for the notifications page and the delivery log."""

from urllib.parse import urlsplit

from django.db.models import Count, Q, QuerySet

from accounts.credentials import open_sealed
from accounts.models import CloudflareAccount, Membership
from cloudflare_client import CloudflareConfigurationError
from notifications.models import BalanceThreshold, Channel, Delivery


def balance_threshold_list(*, account: CloudflareAccount) -> QuerySet[BalanceThreshold]:
    return BalanceThreshold.objects.filter(account=account).order_by("-cents")


def channel_list(*, account: CloudflareAccount) -> QuerySet[Channel]:
    """The account's channels, each with how many of its deliveries are waiting (`pending`) and
    how many were given up (`gave_up`): the page flags a channel whose receiver fails."""
    return (
        Channel.objects.filter(account=account)
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__state=Delivery.State.PENDING)),
            gave_up=Count("deliveries", filter=Q(deliveries__state=Delivery.State.GAVE_UP)),
        )
        .order_by("kind", "pk")
    )


def email_recipient_count(*, account: CloudflareAccount, roles: list[str]) -> int:
    """The people an email to `roles` reaches: active members with an address."""
    return (
        Membership.objects.filter(account=account, role__in=roles, user__is_active=True)
        .exclude(user__email="")
        .count()
    )


def delivery_list(*, channel: Channel) -> QuerySet[Delivery]:
    """Newest first (the keyset pagination's order), with the event each one carries."""
    return Delivery.objects.filter(channel=channel).select_related("notification")


def slack_url_masked(channel: Channel) -> str:
    """The Slack address as the page shows it: where it posts, and the last 4 characters of its
    secret path, enough to tell two apart (`https://hooks.slack.com/…x7Qz`)."""
    try:
        url = open_sealed(channel.sealed_secret)
    except CloudflareConfigurationError:
        return "stored, but it cannot be opened with the server's current key"
    return f"{url_origin(url)}/…{url[-4:]}"


def url_origin(url: str) -> str:
    """`https://host[:port]` of `url`: never any user or password written in it."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port number: stored addresses were checked, so never expected
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"
