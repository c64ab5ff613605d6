"""What accounts tells the layers above it without importing them (accounts never imports
notifications)."""

from django.dispatch import Signal

# Sent after each successful read of an account's balance from Cloudflare (not for a cached
# answer), with `account` (CloudflareAccount), `balance` (cloudflare_client.CreditBalance) and
# `daily` (the daily usage held, list[UsageBucket], or None when none is). Sent robustly: a
# receiver's error is logged and never breaks the page that read the balance.
balance_read = Signal()
