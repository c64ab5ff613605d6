"""Sending one delivery to its channel, once: a signed webhook, a Slack message, an email.

Each sender returns an Attempt and raises nothing it can foresee: an unreachable receiver, a
refused address, a secret that cannot be opened, a mail server that is down are all failed
attempts whose `error` is one short sentence, never an exception's text (a requests error names
the URL, and a Slack URL is a secret). Retrying is notifications.delivery's business."""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from accounts.credentials import open_sealed
from accounts.models import Membership
from cloudflare_client import CloudflareConfigurationError
from notifications.models import Channel, Delivery, Notification
from notifications.validators import validate_receiver_url
from notifications.wording import Wording, describe

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
USER_AGENT = "AI-Gateway-Billing-Portal-Notifications/1.0"

CANNOT_OPEN_SEALED = (
    "The channel's sealed secret cannot be opened: CREDENTIALS_ENCRYPTION_KEY does not hold the "
    "key it was stored with."
)
REFUSED = "Address refused: {reason}"
CONNECT_TIMED_OUT = f"No connection within {CONNECT_TIMEOUT:g} seconds."
READ_TIMED_OUT = f"No answer within {READ_TIMEOUT:g} seconds."
NO_CONNECTION = "Could not connect to the receiver."
NOT_SENT = "The request could not be sent."
ANSWERED = "The receiver answered {status}."
REDIRECTED = "The receiver answered {status}, a redirect (redirects are not followed)."
MAIL_FAILED = "The mail server did not take the email; it is tried again later."
NOBODY_TO_EMAIL = "Nobody to email: no active member with an email address has the chosen roles."


@dataclass(frozen=True)
class Attempt:
    delivered: bool
    status_code: int | None = None
    error: str = ""
    # No point trying again (an email channel nobody receives): the delivery is given up at once.
    final: bool = False


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def send(delivery: Delivery) -> Attempt:
    channel = delivery.channel
    if channel.kind == Channel.Kind.WEBHOOK:
        return send_webhook(delivery.notification, channel)
    if channel.kind == Channel.Kind.SLACK:
        return send_slack(delivery.notification, channel)
    return send_email(delivery.notification, channel)


def send_webhook(notification: Notification, channel: Channel) -> Attempt:
    try:
        secret = open_sealed(channel.sealed_secret)
    except CloudflareConfigurationError:
        return Attempt(delivered=False, error=CANNOT_OPEN_SEALED)
    body = json.dumps(notification.payload()).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Billing-Event-Id": notification.event_id,
        "Billing-Signature": signature_header(secret=secret, body=body, timestamp=int(time.time())),
    }
    return _post(channel.url, body, headers)


def send_slack(notification: Notification, channel: Channel) -> Attempt:
    try:
        url = open_sealed(channel.sealed_secret)
    except CloudflareConfigurationError:
        return Attempt(delivered=False, error=CANNOT_OPEN_SEALED)
    body = json.dumps(slack_message(notification)).encode()
    return _post(url, body, {"Content-Type": "application/json", "User-Agent": USER_AGENT})


def slack_message(notification: Notification) -> dict[str, Any]:
    """A Block Kit message: the event's title and sentence, a button to the page it is about,
    and `text`, what notifications and old clients show."""
    wording = describe(notification)
    return {
        "text": f"{wording.title}. {wording.summary}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": wording.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(wording.summary)}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": wording.link_label},
                        "url": wording.link_url,
                    }
                ],
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _mrkdwn(f"{notification.type} · {notification.event_id}"),
                    }
                ],
            },
        ],
    }


def _mrkdwn(text: str) -> str:
    """Slack's escaping: an account name or Cloudflare's words cannot make a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post(url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """One POST: checked again before sending (a name can start pointing inside), bounded in
    time, redirects not followed, the answer's body never read."""
    try:
        validate_receiver_url(url)
    except ValidationError as exc:
        return Attempt(delivered=False, error=REFUSED.format(reason=exc.messages[0]))
    with requests.Session() as session:
        session.trust_env = False  # no proxy or .netrc credentials of the host's for receivers
        try:
            response = session.post(
                url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectTimeout:
            return Attempt(delivered=False, error=CONNECT_TIMED_OUT)
        except requests.Timeout:
            return Attempt(delivered=False, error=READ_TIMED_OUT)
        except requests.ConnectionError:
            return Attempt(delivered=False, error=NO_CONNECTION)
        except requests.RequestException:
            return Attempt(delivered=False, error=NOT_SENT)
        response.close()
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(delivered=True, status_code=status)
    template = REDIRECTED if 300 <= status < 400 else ANSWERED
    return Attempt(delivered=False, status_code=status, error=template.format(status=status))


def send_email(notification: Notification, channel: Channel) -> Attempt:
    recipients = sorted(
        set(
            Membership.objects.filter(
                account_id=notification.account_id,
                role__in=channel.email_roles,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not recipients:
        return Attempt(delivered=False, error=NOBODY_TO_EMAIL, final=True)
    try:
        email_message(notification, recipients).send()
    # smtplib's errors, refused connections and timeouts are OSErrors; an address the mail
    # library cannot encode is a ValueError.
    except (OSError, ValueError):
        logger.exception("Notification %s not emailed; tried again later", notification.event_id)
        return Attempt(delivered=False, error=MAIL_FAILED)
    return Attempt(delivered=True)


def email_message(notification: Notification, recipients: list[str]) -> EmailMessage:
    """From templates/emails/notification_{subject,body}.txt, in notifications.wording's words."""
    wording: Wording = describe(notification)
    context = {"notification": notification, "account": notification.account, "wording": wording}
    subject = render_to_string("emails/notification_subject.txt", context)
    return EmailMessage(
        " ".join(subject.strip().splitlines()),  # one line, whatever the account's name holds
        render_to_string("emails/notification_body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
