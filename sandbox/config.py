"""The sandbox's settings, from the environment or the command line."""

import os
from dataclasses import dataclass

DEMO_ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
# A second account so that the account switcher has something to switch to.
DEMO_STAGING_ACCOUNT_ID = "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"

DEFAULT_API_TOKEN = "sandbox-token"
DEFAULT_EMAIL = "sandbox@example.com"
DEFAULT_GLOBAL_KEY = "sandbox-global-key"
STRIPE_SECRET_KEY = "sk_test_sandbox"
STRIPE_PUBLISHABLE_KEY = "pk_test_sandbox"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    api_port: int = 8787
    localstripe_port: int = 8420
    api_token: str = DEFAULT_API_TOKEN
    email: str = DEFAULT_EMAIL
    global_key: str = DEFAULT_GLOBAL_KEY
    accounts: tuple[str, ...] = (DEMO_ACCOUNT_ID, DEMO_STAGING_ACCOUNT_ID)
    min_cents: int = 1000
    max_cents: int = 1_000_000
    # How long a succeeded payment stays `pending` before status says `completed`.
    settle_seconds: float = 0.0
    # Added to every billing API answer (not to the control or Stripe.js routes).
    latency_ms: int = 0
    # Whether the optional limits endpoint exists; off, it answers 404 like an unknown route.
    limits_enabled: bool = True
    # Writes to topup/config: Cloudflare refuses API tokens (403); on, the sandbox accepts them.
    topup_config_writes: bool = False
    # Whether the demo accounts start with about 60 days of past (usage, invoices, a saved card).
    demo_history: bool = True

    @property
    def localstripe_url(self) -> str:
        return f"http://127.0.0.1:{self.localstripe_port}"

    @classmethod
    def from_env(cls) -> "SandboxConfig":
        accounts = os.environ.get("SANDBOX_ACCOUNTS")
        return cls(
            host=os.environ.get("SANDBOX_HOST", "127.0.0.1"),
            api_port=int(os.environ.get("SANDBOX_API_PORT", "8787")),
            localstripe_port=int(os.environ.get("LOCALSTRIPE_PORT", "8420")),
            api_token=os.environ.get("SANDBOX_API_TOKEN", DEFAULT_API_TOKEN),
            accounts=tuple(a.strip() for a in accounts.split(",") if a.strip())
            if accounts
            else cls.accounts,
            max_cents=int(os.environ.get("SANDBOX_MAX_CENTS", "1000000")),
            settle_seconds=_env_float("SANDBOX_SETTLE_SECONDS", 0.0),
            latency_ms=int(os.environ.get("SANDBOX_LATENCY_MS", "0")),
            topup_config_writes=os.environ.get("SANDBOX_TOPUP_CONFIG_WRITES", "") == "true",
            demo_history=os.environ.get("SANDBOX_DEMO_HISTORY", "true") != "false",
        )
