# dsl-topic: `make demo` (install + fit on the packaged demo corpus), `make test` (install + tests).
PY ?= python
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
STAMP := .installed.stamp

$(STAMP): scripts/install.sh setup.cfg pyproject.toml requirements/constraints.txt requirements/no-deps.txt
	PYTHON=$(PY) bash scripts/install.sh
	touch $(STAMP)

.PHONY: setup lock demo test test-slow bench-teacher bench perf gpu
setup: $(STAMP)

# requirements/constraints.txt from setup.cfg (every extra) + requirements/no-deps.txt, with uv (see the script);
# LOCK_ARGS=--upgrade for the newest allowed versions, LOCK_ARGS=--check to verify the committed file
lock:
	$(PY) requirements/lock.py $(LOCK_ARGS)

demo: $(STAMP)
	$(PY) -m dsl_plugin.cli demo

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench-teacher: $(STAMP)
	$(PY) benchmarks/teacher_pass.py --lm gemma3-270m --lm smollm2-135m

bench: $(STAMP)
	$(PY) benchmarks/run.py

perf: $(STAMP)
	$(PY) benchmarks/perf.py

# the teacher on a GPU (skips without CUDA): `make gpu HF_MODEL=/path/to/a/local/hf-model`
gpu: $(STAMP)
	$(PY) benchmarks/gpu.py $(if $(HF_MODEL),--hf-model $(HF_MODEL))
