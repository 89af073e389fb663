# The two commands a new user types: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: bench-gpu demo test venv lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: a looser requirement would pull several GB of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --only-binary=pythia8mc -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/anomalyhunt demo --out runs/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q -rs --durations=20

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	for b in generation rmm stats training disco ensemble readers data_vs_sim vae_ensemble vrnn_tagger stability; do $(BIN)/python benchmarks/$$b.py || exit 1; done

# the GPU figures of issue #16 (run on a machine with CUDA; each script prints the CPU-comparable numbers)
bench-gpu: $(STAMP)
	for b in training disco ensemble; do $(BIN)/python benchmarks/$$b.py --device cuda || exit 1; done

clean:
	rm -rf $(VENV) runs data .pytest_cache
