"""Thin HTTP routers over the services."""
