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
	$(PY) -m benchmarks.teacher_pass --lm gemma3-270m --lm smollm2-135m

bench: $(STAMP)
	$(PY) -m benchmarks.run

# PERF_ARGS: e.g. --quick, --tiny (a smoke run), --all-cores 1 (a shared box), --section ray
perf: $(STAMP)
	$(PY) -m benchmarks.perf $(PERF_ARGS)

# the teacher on a GPU (skips without CUDA): `make gpu HF_MODEL=/path/to/a/local/hf-model`
gpu: $(STAMP)
	$(PY) -m benchmarks.gpu $(if $(HF_MODEL),--hf-model $(HF_MODEL))
