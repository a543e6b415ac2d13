# Darkroom: `make run` starts the embedded stack, `make test` runs the test suite.
# Both build the virtualenv first, from constraints.txt, on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PACKAGES := libs/contracts libs/jobs libs/media libs/runtime services/gateway services/image-worker services/upscale-worker services/video-worker services/notifier
STAMP  := $(VENV)/.installed
DEV_USER ?= alice
# `make token USER=bob`: USER counts only when given on the command line (the shell always sets one).
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),$(DEV_USER))
export DARKROOM_ENV ?= dev

.PHONY: install run test test-unit soak lint schemas token bench bench-quick clean help

help:
	@echo "make run      start the embedded stack (Tansu, gateway, relay, projector, image worker, notifier)"
	@echo "make test     run every test (unit, integration, end to end)"
	@echo "make schemas  regenerate libs/contracts JSON Schemas"
	@echo "make soak     2,000 jobs while two workers are killed at random (about 3 min)"
	@echo "make bench    benchmark suite (3 runs per scenario, ~45 min) -> docs/benchmarks.md"
	@echo "make bench-quick   small sizes, one run (a smoke check)"
	@echo "make token USER=alice   print a development bearer token"

$(STAMP): constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt hatchling
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt \
		--no-build-isolation -r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	touch $(STAMP)

install: $(STAMP)

# honcho through darkroom.runtime.embedded.supervisor: its kill timeout then exceeds the workers'
# drain, and the broker (which outlives its clients) stops last.
run: export LOCAL_PROVIDER_STEP_DELAY_S ?= 0.4
run: $(STAMP)
	@mkdir -p var
	$(BIN)/darkroom-migrate
	@$(BIN)/python -m darkroom.runtime.embedded.banner --user $(DEV_USER)
	PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/python -m darkroom.runtime.embedded.supervisor \
		-f Procfile start

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

soak: $(STAMP)
	$(BIN)/python -m pytest -q -s -m slow tests/soak

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

# check_sizes: modules <= 300 lines, functions <= 40 (issue 11); tests/ is left out on purpose,
# long end-to-end scenarios read better whole.
lint: $(STAMP)
	$(BIN)/ruff check libs services tests bench tools deploy
	$(BIN)/ruff format --check libs services tests bench tools deploy
	$(BIN)/python tools/check_sizes.py libs services bench tools
	$(BIN)/hadolint Dockerfile
	$(BIN)/mypy libs/contracts libs/jobs libs/media libs/runtime services/gateway services/image-worker services/upscale-worker services/video-worker services/notifier

schemas: $(STAMP)
	$(BIN)/python -m darkroom.contracts.schema_export libs/contracts/darkroom/contracts/schemas

token: $(STAMP)
	@$(BIN)/darkroom-token $(TOKEN_USER)

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.report

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) var .pytest_cache
