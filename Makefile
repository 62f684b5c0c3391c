# The two commands a newcomer needs: `make run` and `make test`. Both create .venv themselves.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test test-soak lint lock format demo bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "hrbot needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# Stamps re-run the install only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[test]"
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/hrbot db upgrade
	HRBOT_DEMO_MODE=true $(BIN)/hrbot db seed-demo
	HRBOT_DEMO_MODE=true $(BIN)/hrbot serve

# Two processes (the machine has two cores; each process gets its own PostgreSQL database).
# One process, for a debugger or -x: `.venv/bin/pytest -q -p no:xdist`.
test: $(VENV)/.installed-test
	$(BIN)/pytest -q -n 2

# The long fault runs (issue 12): every crash point 50 times, the outbound chaos run. Not in CI.
test-soak: $(VENV)/.installed-test
	$(BIN)/pytest -q -m soak

# The security checks after the style ones: bandit fails on a HIGH finding (bandit.yaml);
# pip-audit checks requirements.lock (tools/audit_lock.py says how it works with this PyPI);
# detect-secrets scans every file git would commit against .secrets.baseline, which holds no
# finding, only its settings (tests/fixtures/ are public sample payloads; a line whose ruff
# S105/S106 exception gives a reason is reviewed; `pass` is the URL placeholder; and
# tools/secret_filters.py). Refresh the baseline after changing them:
# `.venv/bin/detect-secrets scan --baseline .secrets.baseline`.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core faq adapters bot
	$(BIN)/lint-imports
	$(BIN)/bandit -c bandit.yaml -r core faq adapters bot --severity-level high -q -f custom \
		--msg-template '{relpath}:{line}: {test_id} {severity}/{confidence}: {msg}'
	$(BIN)/python tools/audit_lock.py
	git ls-files -z --cached --others --exclude-standard > $(VENV)/.lint-files
	xargs -0 -P 2 -n 250 $(BIN)/detect-secrets-hook --baseline .secrets.baseline < $(VENV)/.lint-files

# requirements.lock: what `pip install -e ".[test]"` put in .venv, pinned. After an upgrade.
lock: $(VENV)/.installed-test
	$(BIN)/python tools/lock_requirements.py

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(VENV)/.installed-run
	$(BIN)/hrbot demo

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[bench]"
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

# Not in CI. Every benchmarks/bench_*.py (or BENCH="faq import"), past any that fails, then
# BENCHMARKS.md from their results; the exit status says whether all of them ran.
bench: $(VENV)/.installed-bench
	@status=0; $(BIN)/python benchmarks/run_all.py $(BENCH) || status=1; \
		$(BIN)/python benchmarks/report.py || status=1; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
