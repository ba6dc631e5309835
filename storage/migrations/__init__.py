"""Alembic migrations of the Patuh schema (a package so that setuptools ships it)."""
