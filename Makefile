# One small developer surface. `make check` is exactly what CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK8S_CHECK_UPGRADE := false
export PYTHONDONTWRITEBYTECODE := 1
# The add-ons' CRDs (<project>/<release>/*.yaml). `make crds` fetches the pinned releases into .crds/.
ifeq ($(SOPHIA_CRDS),)
ifneq ($(wildcard .crds),)
export SOPHIA_CRDS := $(CURDIR)/.crds
endif
endif

.PHONY: checkov setup synth test check lint typecheck update-golden validate policy bench fuzz lock clean crds types imports

$(BIN)/sophia: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

CHECKOV := .venv-checkov/bin/checkov
$(CHECKOV): tools/checkov.lock
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r tools/checkov.lock
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json $(wildcard patches/*.patch)  # npm ci re-applies the patches
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(BIN)/sophia node_modules/.package-lock.json
	@# Bytecode for sophia's own modules (site-packages got theirs from pip). PYTHONDONTWRITEBYTECODE
	@# stops Python writing it at run time, so without this every run recompiles sophia (~0.1 s).
	@$(BIN)/python -m compileall -q sophia main.py >/dev/null

synth: setup  ## compile environments/ into dist/ through the pinned cdk8s-cli
	PATH="$(CURDIR)/$(BIN):$$PATH" node_modules/.bin/cdk8s synth --no-check-upgrade

test: setup $(CHECKOV)  ## the whole test suite
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check sophia tests main.py tools benchmarks extensions
	$(BIN)/mypy

check: test lint checkov  ## what CI runs
	$(BIN)/sophia check
	$(BIN)/sophia validate dist

crds: setup  ## download the CRDs of the pinned add-on releases into .crds/ (crds.lock.yaml: by commit, sha256 checked)
	$(BIN)/sophia crds fetch --out .crds

checkov: $(CHECKOV)  ## the independent judge: 0 failed checks on dist/ (skips and reasons in .checkov.yaml)
	$(CHECKOV) -d dist --config-file .checkov.yaml

validate: setup
	$(BIN)/sophia validate dist

types: setup  ## regenerate sophia/k8s/ (typed Kubernetes shapes) from the schemas validate reads
	$(BIN)/python tools/generate_types.py

imports: setup  ## regenerate extensions/imports/ (cdk8s import of the pinned CRDs extensions use)
	$(BIN)/python tools/import_crds.py

update-golden: setup  ## refresh tests/golden/ from tests/fixtures/
	SOPHIA_UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_golden.py

bench: setup
	$(BIN)/python benchmarks/bench.py

fuzz: setup
	SOPHIA_FUZZ_EXAMPLES=10000 $(BIN)/pytest -q -p no:cacheprovider tests/test_properties.py -s

lock:  ## re-pin every Python package after editing pyproject.toml
	rm -rf /tmp/sophia-lock && $(PYTHON) -m venv /tmp/sophia-lock
	/tmp/sophia-lock/bin/pip install --quiet setuptools==80.9.0 -e '.[dev]'
	(echo "# Every Python package of the dev environment, pinned (make lock regenerates it)."; \
	 /tmp/sophia-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip==') > requirements.lock

clean:
	rm -rf $(VENV) .venv-checkov node_modules .cdk8s.out .crds .schemas
