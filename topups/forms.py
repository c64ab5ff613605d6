"""Input validation. Amounts are parsed as text with Decimal, never float."""

import re
from decimal import Decimal

from django import forms

from accounts.money import format_cents
from accounts.services import AmountLimits
from topups.states import TopUpState

# ASCII digits only (str.isdigit also accepts Arabic-Indic or full-width ones), optional "$",
# optional thousands commas, at most two decimals. No signs, no exponents, no inner spaces.
AMOUNT_RE = re.compile(r"^\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<cents>[0-9]+))?$")
MAX_WHOLE_DIGITS = 9  # anything longer is refused before it becomes a number at all


LIMIT_MESSAGES = {
    "too_small": "The minimum top-up is {minimum}.",
    "too_large": "The maximum top-up is {maximum}.",
}


def check_limits(amount_cents: int, limits: AmountLimits) -> int:
    if amount_cents < limits.min_cents:
        message = LIMIT_MESSAGES["too_small"].format(minimum=format_cents(limits.min_cents))
        raise forms.ValidationError(message, code="too_small")
    if amount_cents > limits.max_cents:
        raise _too_large(limits)
    return amount_cents


def _too_large(limits: AmountLimits) -> forms.ValidationError:
    message = LIMIT_MESSAGES["too_large"].format(maximum=format_cents(limits.max_cents))
    return forms.ValidationError(message, code="too_large")


class AmountForm(forms.Form):
    """Step 1: the amount in dollars, as typed or picked from a preset."""

    PRESETS = (1000, 2500, 5000, 10000)

    amount = forms.CharField(
        label="Amount in US dollars",
        max_length=64,
        strip=True,
        error_messages={
            "required": "Enter an amount, for example 50 or 49.99.",
            "max_length": "Enter an amount in dollars using digits, for example 50 or 49.99.",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    error_messages = {
        "invalid": "Enter an amount in dollars using digits, for example 50 or 49.99.",
        "non_ascii_digits": "Use the digits 0 to 9.",
        "negative": "Enter a positive amount.",
        "too_many_decimals": "Use at most two decimals (whole cents).",
    }

    def __init__(self, *args, limits: AmountLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.fields[
            "amount"
        ].help_text = (
            f"Between {format_cents(limits.min_cents)} and {format_cents(limits.max_cents)}."
        )

    def clean_amount(self) -> str:
        raw = self.cleaned_data["amount"]
        text = raw.replace(" ", "").replace("\u00a0", "")
        if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
            raise forms.ValidationError(
                self.error_messages["non_ascii_digits"], code="non_ascii_digits"
            )
        if text.startswith(("-", "$-", "\u2212")):
            raise forms.ValidationError(self.error_messages["negative"], code="negative")
        match = AMOUNT_RE.match(text)
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        whole = match["whole"].replace(",", "")
        cents = match["cents"] or ""
        if len(cents) > 2:
            raise forms.ValidationError(
                self.error_messages["too_many_decimals"], code="too_many_decimals"
            )
        if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
            raise _too_large(self.limits)
        amount_cents = int(Decimal(f"{whole}.{cents or '0'}") * 100)
        self.cleaned_data["amount_cents"] = check_limits(amount_cents, self.limits)
        return raw


class ConfirmForm(forms.Form):
    """Step 2: "Confirm and pay". The request key was minted when the review page rendered."""

    amount_cents = forms.IntegerField(widget=forms.HiddenInput)
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, limits: AmountLimits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits

    def clean_amount_cents(self) -> int:
        return check_limits(self.cleaned_data["amount_cents"], self.limits)


class DateRangeMixin(forms.Form):
    """A range of UTC days, both ends optional."""

    created_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    error_messages = {"backwards": "The end date is before the start date."}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            raise forms.ValidationError(self.error_messages["backwards"], code="backwards")
        return cleaned

    def filters(self) -> dict:
        """What to pass to a selector: the valid filters, none when the form is invalid."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class HistoryFilterForm(DateRangeMixin, forms.Form):
    """The history's filters. They travel in the query string, so they survive pagination and
    can be bookmarked."""

    state = forms.ChoiceField(
        choices=[("", "Any state"), *TopUpState.choices], required=False, label="State"
    )
    creator = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Started by",
        empty_label="Anyone",
        to_field_name="username",
    )

    def __init__(self, *args, creators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creator"].queryset = creators
        self.order_fields(["state", "created_from", "created_to", "creator"])
