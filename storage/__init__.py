"""Patuh's storage: SQLModel tables (``models``), engine/session factory and migrations (``db``),
and the queries that the crawler, reports and web UI share (``repo``)."""
