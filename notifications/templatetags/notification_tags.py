"""How channels read on the notifications page: `{{ channel|slack_address }}` (masked),
`{{ url|origin }}` (a webhook's address as members other than admins see it), `{{ url|host }}`."""

from urllib.parse import urlsplit

from django import template

from notifications import selectors
from notifications.models import Channel

register = template.Library()


@register.filter
def slack_address(channel: Channel) -> str:
    return selectors.slack_url_masked(channel)


@register.filter
def origin(url: str) -> str:
    return selectors.url_origin(url)


@register.filter
def host(url: str) -> str:
    return urlsplit(url).hostname or url
