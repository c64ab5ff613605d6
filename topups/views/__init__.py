"""Thin views: resolve access from the URL, validate with a form, call one service, render.
`flow` is the top-up itself (amount → review → pay → result); `history` lists top-ups."""
