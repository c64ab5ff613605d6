"""Give the production demo account (accounts' seed_demo, run first) its notification channels
in the sandbox: a signed webhook to the sandbox's receiver, with the published secret
`whsec_sandbox_demo`, a Slack channel to the sandbox's Slack stand-in, and email to its admins
and finance members, so `make run` shows notifications arriving. Safe to run again: it
converges. Refuses outside sandbox mode."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.credentials import open_sealed, seal_text
from accounts.management.commands.seed_demo import PRODUCTION
from accounts.models import CloudflareAccount
from cloudflare_client import CloudflareConfigurationError
from notifications.models import ROLES_EMAILED_BY_DEFAULT, Channel

DEMO_WEBHOOK_SECRET = "whsec_sandbox_demo"  # noqa: S105 - the sandbox's published demo secret


class Command(BaseCommand):
    help = "Seed the sandbox demo's notification channels: a signed webhook, Slack and email."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BILLING_SANDBOX:
            raise CommandError(
                "Refusing to point an account's notifications at the sandbox outside sandbox mode "
                "(BILLING_SANDBOX is false)."
            )
        account = CloudflareAccount.objects.filter(account_id=PRODUCTION).first()
        if account is None:
            raise CommandError("The demo account does not exist: run manage.py seed_demo first.")
        webhook_url = settings.SANDBOX_URL + "/__sandbox/webhooks"
        webhook = Channel.objects.filter(
            account=account, kind=Channel.Kind.WEBHOOK, url=webhook_url
        ).first() or Channel(account=account, kind=Channel.Kind.WEBHOOK, url=webhook_url)
        webhook.sealed_secret = seal_text(DEMO_WEBHOOK_SECRET)
        webhook.is_active, webhook.event_types = True, []
        webhook.save()

        slack_url = settings.SANDBOX_URL + "/__sandbox/slack"
        slack = next(
            (
                c
                for c in account.notification_channels.filter(kind=Channel.Kind.SLACK)
                if _opens_to(c, slack_url)
            ),
            None,
        ) or Channel(account=account, kind=Channel.Kind.SLACK, sealed_secret=seal_text(slack_url))
        slack.is_active, slack.event_types = True, []
        slack.save()

        if not account.notification_channels.filter(kind=Channel.Kind.EMAIL).exists():
            Channel.objects.create(
                account=account, kind=Channel.Kind.EMAIL, email_roles=ROLES_EMAILED_BY_DEFAULT
            )
        self.stdout.write(
            f"  {account.name}: webhook {webhook_url} (secret {DEMO_WEBHOOK_SECRET}), Slack "
            f"{slack_url}, email to {', '.join(ROLES_EMAILED_BY_DEFAULT)}"
        )
        self.stdout.write(self.style.SUCCESS("Demo notification channels ready."))


def _opens_to(channel: Channel, url: str) -> bool:
    try:
        return open_sealed(channel.sealed_secret) == url
    except CloudflareConfigurationError:
        return False
