# One venv for everything; each target installs it first if needed.
PY      := .venv/bin/python
STAMP   := .venv/.installed

.PHONY: install demo test test-slow test-gpu lint bench bench-full clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# torch/torchvision resolve to the releases pip's cap allows (on this machine: local disk).
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	.venv/bin/gan-lightning fit --config configs/toy/wgan_gp_ring.yaml --config configs/trainer/demo.yaml

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# On a CUDA machine: every config in 32-true, bf16-mixed and 16-mixed, and the GradScaler test (skipped elsewhere).
test-gpu: $(STAMP)
	$(PY) -m pytest -q -m gpu

# Benchmarks (docs/benchmarks.md): quick = overhead ratio + reduced toy table; full = everything.
bench: $(STAMP)
	$(PY) benchmarks/run.py quick

bench-full: $(STAMP)
	$(PY) benchmarks/run.py full

lint: $(STAMP)
	.venv/bin/ruff check gan_lightning tests benchmarks
	.venv/bin/ruff format --check gan_lightning tests benchmarks

clean:
	rm -rf runs lightning_logs .pytest_cache
