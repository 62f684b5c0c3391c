"""Maintenance helpers for the message catalogs (run by developers, not by hrbot)."""
