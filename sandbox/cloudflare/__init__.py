"""Cloudflare's AI Gateway billing API, emulated: routes, contract, faults, the emulator."""
