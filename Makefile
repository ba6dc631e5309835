# Patuh: `make demo` runs the main job on bundled demo sites; `make test` runs the whole suite.
# Both create .venv and install everything they need (Python packages; Chromium from apt when missing).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean

$(STAMP): pyproject.toml
	@# the system Chromium renders JavaScript pages and takes screenshots (a browser is never downloaded)
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
		echo "Chromium tidak terpasang: pasang paket Debian 'chromium' agar halaman JavaScript dapat dirender"; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/run_demo.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy crawler spiders checks storage
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy crawler spiders checks storage

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
