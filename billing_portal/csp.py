"""The Content-Security-Policy of every page (served by django-csp), from where Stripe.js comes.

Scripts come only from this site and Stripe.js's origin; nothing inline. Live mode allows what
Stripe's security guide lists for Stripe.js (its script and frame hosts, 3-D Secure's hooks
frame, its API for connections); sandbox mode allows the emulator's origins instead, never both.
"""

from urllib.parse import urlsplit

from csp.constants import NONE, SELF

STRIPE_LIVE_ORIGIN = "https://js.stripe.com"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(*, stripe_js_url: str, sandbox_origins: tuple[str, ...] = ()) -> dict:
    stripe_js = origin(stripe_js_url)
    scripts, styles, connect, frames, images = [SELF, stripe_js], [SELF], [SELF], [], [SELF]
    if stripe_js == STRIPE_LIVE_ORIGIN:
        scripts.append("https://*.js.stripe.com")
        connect.append("https://api.stripe.com")
        frames += [STRIPE_LIVE_ORIGIN, "https://*.js.stripe.com", "https://hooks.stripe.com"]
        images.append("https://*.stripe.com")
    # The stand-in draws its Payment Element in the page, with the emulator's stylesheet, and
    # talks to the emulator and to localstripe (3-D Secure).
    styles += sandbox_origins
    connect += sandbox_origins
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": _unique(scripts),
            "style-src": _unique(styles),
            "img-src": images,
            "connect-src": _unique(connect),
            "frame-src": frames or [NONE],
            "object-src": [NONE],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }


def _unique(sources: list[str]) -> list[str]:
    return list(dict.fromkeys(sources))
