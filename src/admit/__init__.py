"""Admit: timed-entry ticketing."""
