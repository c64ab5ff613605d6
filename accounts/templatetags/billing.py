"""How money and times read on every page and in every email: `{{ cents|dollars }}`,
`{{ cents|spend_rate }}` and `{% utc_time value "M j, Y H:i" %}`. Built into every template
(TEMPLATES' `builtins`), so no template loads them."""

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in django-stubs

from accounts.money import format_cents, format_rate

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """Cents, whole or fractional, as `$1,234.56` (a minus sign below zero); nothing for none."""
    return "" if cents is None or cents == "" else format_cents(cents)


@register.filter
def spend_rate(cents) -> str:
    """A spend per day or hour: `less than $0.01` rather than `$0.00` for a tiny one."""
    return "" if cents is None or cents == "" else format_rate(cents)


@register.simple_tag
def utc_time(value, fmt: str = "M j, Y H:i", *, bare: bool = False) -> str:
    """`value` as a <time> element in UTC (the site's time zone), read as `fmt` (the `date`
    filter's format) and followed by ` UTC`; `bare` leaves that out where a column header
    already says it."""
    if value is None or value == "":
        return ""
    value = template_localtime(value)
    return format_html(
        '<time datetime="{}">{}{}</time>',
        date_filter(value, "c"),
        date_filter(value, fmt),
        "" if bare else " UTC",
    )
