"""One form field for money typed in US dollars: DollarsField reads the text, never as a float,
and cleans it to whole cents within a minimum and a maximum given in cents."""

import re

from django import forms

from accounts.money import format_cents

# ASCII digits only (str.isdigit also accepts Arabic-Indic or full-width ones), optional "$",
# optional thousands commas, at most two decimals. No signs, no exponents, no inner spaces.
AMOUNT_RE = re.compile(r"^\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<cents>[0-9]+))?$")
MAX_LENGTH = 64  # longer text (4,000 digits) is refused before it is read at all
MAX_WHOLE_DIGITS = 9  # more is above any maximum: refused before it becomes a number
# The most a dollar input takes when nothing lower applies: what the nine-digit fields it
# replaced held, well within the database's integer columns.
MAX_CENTS = 999_999_999


def cents_as_text(cents: int) -> str:
    """What DollarsField reads back as `cents`: "50" for whole dollars, "49.90" otherwise."""
    dollars, rest = divmod(cents, 100)
    return f"{dollars}" if rest == 0 else f"{dollars}.{rest:02d}"


class DollarsField(forms.Field):
    """ "50", "49.99", "$1,234.56" (spaces ignored) as int cents; the min_value and max_value
    messages name the limit as "{minimum}" and "{maximum}", formatted from the cents."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {
        "invalid": "Enter an amount in dollars using digits, for example 50 or 49.99.",
        "non_ascii_digits": "Use the digits 0 to 9.",
        "negative": "Enter a positive amount.",
        "too_many_decimals": "Use at most two decimals (whole cents).",
        "min_value": "Enter at least {minimum}.",
        "max_value": "Enter at most {maximum}.",
    }

    def __init__(self, *, min_cents: int = 0, max_cents: int = MAX_CENTS, **kwargs):
        self.min_cents, self.max_cents = min_cents, max_cents
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": str(MAX_LENGTH)}

    def prepare_value(self, value):
        """Cents (an initial value) are shown as the dollars they are; typed text as typed."""
        return cents_as_text(value) if isinstance(value, int) else value

    def to_python(self, value) -> int | None:
        text = "" if value in self.empty_values else str(value).strip()
        if not text:
            return None
        if len(text) > MAX_LENGTH:
            raise self._error("invalid")
        text = text.replace(" ", "").replace("\u00a0", "")
        if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
            raise self._error("non_ascii_digits")
        if text.startswith(("-", "$-", "\u2212")):
            raise self._error("negative")
        match = AMOUNT_RE.match(text)
        if not match:
            raise self._error("invalid")
        whole, cents = match["whole"].replace(",", ""), match["cents"] or ""
        if len(cents) > 2:
            raise self._error("too_many_decimals")
        if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
            raise self._error("max_value")
        return int(whole) * 100 + int(cents.ljust(2, "0"))

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is not None and value < self.min_cents:
            raise self._error("min_value")
        if value is not None and value > self.max_cents:
            raise self._error("max_value")

    def _error(self, code: str) -> forms.ValidationError:
        message = self.error_messages[code].format(
            minimum=format_cents(self.min_cents), maximum=format_cents(self.max_cents)
        )
        return forms.ValidationError(message, code=code)
