"""hrbot's core: the social-insurance domain, its use cases and their persistence.

Synchronous and framework-free (only SQLAlchemy, inside ``core.persistence``), so it can be
tested on SQLite and PostgreSQL alike and called from any adapter through one bridge.
"""
