"""`python -m crawler` is the `patuh` command (and the console script `patuh` calls `main` here)."""


def main() -> None:
    """The `patuh` command.

    The CLI is imported here, not at module level: a worker process (multiprocessing's spawn)
    runs the module its parent was started from again, and the CLI's imports (SQLAlchemy, Alembic,
    Rich, Click) cost each worker 0.3 s before its first page and ~35 MB it never uses.
    """
    from crawler.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
