"""Input of the finance desk."""

from __future__ import annotations

from django import forms

from accounts.models import CloudflareAccount
from billing_portal.converters import parse_id
from finance import user_messages
from finance.selectors import KIND_CHOICES
from topups.forms import DateRangeMixin


class DeskFilterForm(DateRangeMixin, forms.Form):
    """Which top-ups the desk lists and exports; in the query string, so links keep them."""

    kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Show")
    account: forms.ModelChoiceField[CloudflareAccount] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Account",
        empty_label="All accounts",
        to_field_name="account_id",
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        # Date fields come after the kind and the account.
        self.order_fields(["kind", "account", "created_from", "created_to"])


class TopUpIdsField(forms.Field):
    """The ids of the ticked top-ups (the desk's checkboxes, all named `topup`)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "Not a top-up id: %(value)s"}

    def to_python(self, value) -> list[int]:
        ids = []
        for raw in value or ():
            pk = parse_id(raw)
            if pk is None:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": raw[:20]}
                )
            ids.append(pk)
        return ids


class BulkConfirmForm(forms.Form):
    """Which top-ups to confirm. A value no checkbox sends refuses the whole request."""

    topup = TopUpIdsField(required=False)


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            ("charged", "Charged: the money arrived (for example, seen on Cloudflare's invoice)"),
            ("not_charged", "Not charged: no payment was taken"),
        ],
        widget=forms.RadioSelect,
        label="What happened",
        error_messages={"required": "Choose whether the card was charged."},
    )
    invoice = forms.ChoiceField(
        required=False,
        widget=forms.RadioSelect,
        label="Which invoice charged it",
        help_text="The top-up takes the invoice's id, so the invoice is matched from now on.",
        error_messages={"invalid_choice": user_messages.INVOICE_NO_LONGER_FREE},
    )
    no_invoice_reason = forms.CharField(
        required=False,
        max_length=500,
        label="If it is none of them, say why",
        help_text="For example: the invoice is another person's top-up made in the dashboard.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        label="Note for the record",
        help_text="What you checked, for example the invoice number. It is kept with the top-up.",
        error_messages={"required": "Write a note: say what you checked."},
    )

    def __init__(self, *args, candidates=(), **kwargs):
        """`candidates`: the invoices that could be this top-up's (a lost create's). Without
        any, no invoice is accepted: one posted from an older page is refused, not ignored."""
        super().__init__(*args, **kwargs)
        self.has_candidates = bool(candidates)
        self.fields["invoice"].choices = [  # type: ignore[attr-defined]
            *((invoice.id, invoice.id) for invoice in candidates),
            ("", "None of these"),
        ]
        self.fields["invoice"].initial = ""

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("invoice") and cleaned.get("outcome") == "not_charged":
            self.add_error(
                "invoice", "An invoice that charged it means it was charged: choose “Charged”."
            )
        elif (
            self.has_candidates
            and "invoice" in cleaned
            and not cleaned["invoice"]
            and not cleaned.get("no_invoice_reason", "").strip()
        ):
            self.add_error("no_invoice_reason", user_messages.NO_INVOICE_REASON_REQUIRED)
        return cleaned
