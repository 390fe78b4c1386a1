"""Persistence: engine, sessions and table models."""
