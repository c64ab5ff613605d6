from django.core.management.base import BaseCommand, CommandError

from accounts.credentials import reseal
from accounts.models import CloudflareAccount
from cloudflare_client import CloudflareConfigurationError


class Command(BaseCommand):
    help = (
        "Re-seal every stored account credential with the first CREDENTIALS_ENCRYPTION_KEY. "
        "To rotate: put the new key first, keep the old one after it, run this, then drop it."
    )

    def handle(self, *args, **options):
        resealed = 0
        for account in CloudflareAccount.objects.exclude(sealed_credential=""):
            try:
                fresh = reseal(account.sealed_credential)
            except CloudflareConfigurationError as exc:
                raise CommandError(f"{account.name}: {exc}") from None
            # Only if nobody changed it meanwhile: a newer credential is never overwritten.
            resealed += CloudflareAccount.objects.filter(
                pk=account.pk, sealed_credential=account.sealed_credential
            ).update(sealed_credential=fresh)
        self.stdout.write(f"Re-sealed {resealed} stored credential(s) with the first key.")
