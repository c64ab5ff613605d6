"""An offline stand-in for Cloudflare's AI Gateway billing API and for Stripe.js.

Runs in its own process (`python -m sandbox`), keeps payments in localstripe, and is never
imported by the web app: the app only ever reaches it over HTTP, exactly as it reaches Cloudflare.
"""
