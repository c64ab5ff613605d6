"""The low-balance alert: one email to the account's admins and finance members when the
balance falls below the account's threshold — once per crossing, however often the balance is
read, by whichever worker reads it first.

Claim, send, mark: a conditional UPDATE claims the crossing (one worker wins), the email goes to
the mail server, and only once the server took it is the crossing marked sent. A mail error
releases the claim and is logged, never raised: the next read of the balance tries again. A
claim left by a worker that died while sending expires after CLAIM_EXPIRES."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import CloudflareAccount, Membership
from accounts.runway import runway
from cloudflare_client import CreditBalance, UsageBucket

logger = logging.getLogger(__name__)

# Far longer than a send can take (EMAIL_TIMEOUT bounds each step of the SMTP conversation).
CLAIM_EXPIRES = timedelta(minutes=10)


def account_low_balance_check(
    *, account: CloudflareAccount, balance: CreditBalance, daily: list[UsageBucket] | None
) -> bool:
    """Email the alert if the balance is below the threshold and this crossing has not been
    told yet; re-arm it once the balance is back above. Returns whether an email was sent."""
    threshold = account.low_balance_alert_cents
    if threshold is None:
        return False
    mine = CloudflareAccount.objects.filter(pk=account.pk)
    if balance.balance_cents >= threshold:
        # Also drops a claim in flight: its email was about a crossing that is over.
        mine.filter(
            Q(low_balance_alerted_at__isnull=False) | Q(low_balance_alert_claimed_at__isnull=False)
        ).update(low_balance_alerted_at=None, low_balance_alert_claimed_at=None)
        return False
    now = timezone.now()
    if not mine.filter(
        Q(low_balance_alert_claimed_at__isnull=True)
        | Q(low_balance_alert_claimed_at__lt=now - CLAIM_EXPIRES),
        low_balance_alerted_at__isnull=True,
    ).update(low_balance_alert_claimed_at=now):
        return False  # already told about this crossing, or another worker is telling
    claimed = mine.filter(low_balance_alert_claimed_at=now)
    recipients = list(
        Membership.objects.filter(
            Q(role=Membership.Role.ADMIN) | Q(role=Membership.Role.FINANCE),
            account=account,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if recipients:
        email = _email(account, balance, daily, recipients)
        try:
            email.send()
        # smtplib's errors, refused connections and timeouts are OSErrors; an address the
        # mail library cannot encode is a ValueError.
        except (OSError, ValueError):
            logger.exception(
                "Low-balance alert for account %s not sent; the next balance read tries again",
                account.pk,
            )
            claimed.update(low_balance_alert_claimed_at=None)
            return False
    claimed.update(low_balance_alerted_at=now, low_balance_alert_claimed_at=None)
    logger.info("Low-balance alert for account %s sent to %d people", account.pk, len(recipients))
    return bool(recipients)


def _email(account, balance, daily, recipients) -> EmailMessage:
    """The alert, from templates/emails/low_balance_{subject,body}.txt."""
    context = {
        "account": account,
        "balance": balance,
        "runway": runway(balance_cents=balance.balance_cents, daily=daily, now=timezone.now()),
        "topup_url": settings.SITE_URL
        + reverse("accounts:overview", kwargs={"account_id": account.account_id}),
    }
    subject = render_to_string("emails/low_balance_subject.txt", context)
    return EmailMessage(
        " ".join(subject.strip().splitlines()),  # one line, whatever the account's name holds
        render_to_string("emails/low_balance_body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
