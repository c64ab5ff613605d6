"""Writes on top-ups, by concern: `transitions` (the only way a state changes, and the audit
trail), `create` (the one create call and its three outcomes), `status` (asking Cloudflare
whether the money arrived), `refresh` (every unfinished top-up at once, for refresh_topups)."""
