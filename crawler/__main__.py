"""`python -m crawler` is the `patuh` command."""

from crawler.cli import main

if __name__ == "__main__":  # not when a worker process re-imports the main module
    main()
