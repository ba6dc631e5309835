"""The workbench of Patuh: the web UI of `patuh serve` and the logic `patuh review` shares with it."""
