"""Credentials: ticket codes, staff passwords and tokens."""
