# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
STAMP := $(VENV)/.installed
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: run test smoke lint screenshot bench package package-smoke icons clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	@touch $(STAMP)

# ARGS passes options to the app, e.g. make run ARGS="--developer --data-dir /tmp/tb".
# The platform check prints the install command for missing Qt libraries instead of a Qt abort.
run: $(STAMP)
	@$(BIN)/python -m app.platform_check
	$(BIN)/python -m app $(ARGS)

# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n $(TEST_WORKERS)

smoke: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app --smoke-test --data-dir "$$(mktemp -d)"

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshot.py docs/images/main-window.png

# The app for this platform in dist/TradeBridge/ (one folder, windowed): see packaging/README.md.
$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e ".[test,package]"
	@touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	$(BIN)/python packaging/build.py

# The built executable: --version, a headless start, the keyring, connections to the fake brokers.
package-smoke: $(PACKAGE_STAMP)
	$(BIN)/python packaging/smoke_bundle.py dist/TradeBridge $(SMOKE_FLAGS)

# Only when resources/tradebridge.svg changes; the results are committed.
icons: $(STAMP)
	$(BIN)/python packaging/make_icons.py

# Benchmarks against same-run baselines; prints one table and writes benchmarks/RESULTS.md (not part of `make test`).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build dist *.egg-info
