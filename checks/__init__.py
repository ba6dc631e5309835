"""Pure functions that turn captured bytes into a `Document` and a `Document` into evidence.

Nothing in this package fetches, reads the clock or touches the database.
"""
