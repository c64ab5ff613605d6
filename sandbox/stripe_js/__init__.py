"""The Stripe.js stand-in and its backend."""
