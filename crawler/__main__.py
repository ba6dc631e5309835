"""`python -m crawler` is the `patuh` command."""

from crawler.cli import main

main()
