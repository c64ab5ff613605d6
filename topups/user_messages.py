"""The sentences about a top-up that its views flash, its 403 pages show and create records as
the error; tests assert them exactly. (Form errors sit with the forms.)"""

# Create did not go through, or its outcome is not known.
CREATE_ERROR_MESSAGES = {
    "refused": "Cloudflare refused this top-up: {reason}",
    "rate_limited": (
        "Cloudflare is receiving too many requests right now, so this top-up was not created and "
        "nothing was charged. Try again in {seconds}."
    ),
    "unavailable": (
        "Cloudflare's billing service could not be reached, so this top-up was not created and "
        "nothing was charged. Try again in a few minutes."
    ),
    "auth": (
        "Cloudflare refused this portal's credentials for the account, so nothing was charged. "
        "Ask an operator to check the API token (it needs AI Gateway Write)."
    ),
    "configuration": (
        "This portal has no Cloudflare credentials for the account, so nothing was charged. "
        "Ask an operator to configure them."
    ),
    "unknown": (
        "Cloudflare did not confirm whether this top-up went through: your card may or may not "
        "have been charged. Please do not try again right away — finance will reconcile this "
        "top-up with Cloudflare and follow up."
    ),
}

# The confirm form, resubmitted.
CAP_REACHED = (
    "{account} has started {started} in the last hour, the most allowed. "
    "You can start another at {retry_at} UTC."
)
FORM_ALREADY_USED = "That form was already used. Start a new top-up."
ALREADY_SUBMITTED = "This top-up was already submitted; here it is."

# 403 pages.
ONLY_ADMINS_TOP_UP = "Only account admins can top up this account."
ONLY_THE_PAYER_PAYS = "Only the person who started this top-up can pay it."
