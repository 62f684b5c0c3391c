"""Entities and rules as plain dataclasses and functions; no I/O, no frameworks."""
