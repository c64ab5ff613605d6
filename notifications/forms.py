"""Input of the notifications page. Each form has its own prefix: they share one page, so their
fields need distinct names and ids."""

from typing import Any

from django import forms

from accounts.credentials import encryption_configured
from accounts.fields import DollarsField
from accounts.models import Membership
from notifications.events import EventType
from notifications.validators import validate_receiver_url

THRESHOLD_MIN_CENTS = 100  # below a dollar, a warning comes too late to act on
EVENT_CHOICES = [(t.value, t.label) for t in EventType if t != EventType.TEST]
ROLE_CHOICES = [
    (Membership.Role.ADMIN.value, "Admins"),
    (Membership.Role.FINANCE.value, "Finance members"),
    (Membership.Role.VIEWER.value, "Viewers"),
]
SECRETS_NEED_KEY = (
    "Slack and webhook secrets cannot be stored until CREDENTIALS_ENCRYPTION_KEY is set on the "
    "server. Ask whoever runs this portal to set it."
)
MAX_URL_LENGTH = 2000  # Channel.url's


class ThresholdForm(forms.Form):
    prefix = "threshold"

    amount = DollarsField(
        label="Notify when the balance falls below (US dollars)",
        min_cents=THRESHOLD_MIN_CENTS,
        error_messages={"min_value": "A threshold is at least {minimum}."},
    )

    def cents(self) -> int:
        cents: int = self.cleaned_data["amount"]
        return cents


class EmailForm(forms.Form):
    prefix = "email"

    roles = forms.MultipleChoiceField(
        label="Email these people of the account",
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Members with an email address. None chosen: no email.",
    )

    def roles_chosen(self) -> list[str]:
        chosen = set(self.cleaned_data["roles"])
        return [role for role, _ in ROLE_CHOICES if role in chosen]


class ReceiverForm(forms.Form):
    """Where a Slack message or a signed webhook goes, and which events it takes."""

    url = forms.URLField(
        label="Address", max_length=MAX_URL_LENGTH, assume_scheme="https", widget=forms.URLInput
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None chosen: every event, including any added later.",
    )

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        validate_receiver_url(url)
        return url

    def clean(self) -> dict[str, Any] | None:
        if not encryption_configured():
            raise forms.ValidationError(SECRETS_NEED_KEY, code="no_key")
        return super().clean()

    def event_types_chosen(self) -> list[str]:
        chosen = set(self.cleaned_data["event_types"])
        return [value for value, _ in EVENT_CHOICES if value in chosen]


class SlackForm(ReceiverForm):
    prefix = "slack"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].label = "Slack incoming-webhook URL"
        self.fields["url"].help_text = (
            "From Slack: Apps → Incoming Webhooks → Add New Webhook to Workspace. It is stored "
            "encrypted and shown only in part afterwards."
        )


class WebhookForm(ReceiverForm):
    prefix = "webhook"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].label = "Endpoint URL"
        self.fields[
            "url"
        ].help_text = (
            "Events are POSTed here as JSON, signed with a secret shown once after adding it."
        )
