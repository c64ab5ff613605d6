"""`make soak`: a busy team on the portal for ten minutes, with faults (see __main__.py)."""
