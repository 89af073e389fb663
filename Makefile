# The two commands a new user types: `make demo` and `make test` (and `make docs` for the documentation site).
# PY: the first of python3.11, python3.12, python3.13, python3 that is at least 3.11 (override with PY=...).
PY ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: bench-gpu demo docs test venv lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "make: no Python >= 3.11 found (python3.11 .. python3); give one: make PY=/path/to/python"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: a looser requirement would pull several GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --only-binary=pythia8mc -e '.[test,trigger]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/anomalyhunt demo --out runs/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q -rs --durations=20

# the documentation site (MkDocs + Material + mkdocstrings), built strictly: a warning (a broken link, a
# docstring that does not render) fails it. Output in site/.
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	for b in generation rmm stats training disco ensemble readers data_vs_sim vae_ensemble vrnn_tagger stability; do $(BIN)/python benchmarks/$$b.py || exit 1; done

# the GPU figures of issue #16 (run on a machine with CUDA; each script prints the CPU-comparable numbers)
bench-gpu: $(STAMP)
	for b in training disco ensemble; do $(BIN)/python benchmarks/$$b.py --device cuda || exit 1; done

clean:
	rm -rf $(VENV) runs data site .pytest_cache
