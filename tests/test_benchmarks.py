"""Smoke tests of every benchmark script (``python -m benchmarks.X``) on 36 documents of the demo corpus.

Each script's ``main`` runs for real (in this process where it can, so the session's LM is loaded once; the run
harness's ``--one`` cells and perf.py's memory measurements in their own subprocesses, as in a real run), with the
results, work and log folders and the teacher cache in a temporary folder. The numbers they produce mean nothing:
what is checked is that every code path runs and writes what it should.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import benchmarks
from benchmarks import bench_data, variants

ROOT = Path(__file__).resolve().parents[1]
TINY = "demo-tiny"  # 36 demo documents, 6 labels
LM = "smollm2-135m"
LEVER = "Q-sm-tau2"  # a DSL variant of the quality study: SmolLM2, tau 2 (benchmarks/variants.py)
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__init__")
ENTRY_POINTS = [s for s in SCRIPTS if "def main(" in (ROOT / "benchmarks" / f"{s}.py").read_text()]


# --------------------------------------------------------------------------- the package itself

def test_no_script_changes_the_environment_or_sys_path_but_the_package():
    for name in SCRIPTS:
        text = (ROOT / "benchmarks" / f"{name}.py").read_text()
        assert "sys.path" not in text, name
        assert not re.search(r"os\.environ(\.setdefault\(|\[[^\]]+\]\s*=|\.update\()", text), name
    assert set(ENTRY_POINTS) >= {"run", "perf", "teacher_pass", "quality_study", "sweep_dsl", "choose_lm",
                                 "compare_tokenizers", "diagnose_teacher", "judge_check", "gpu", "bench_data"}
    for name in ENTRY_POINTS:  # the one place that sets the environment runs first in every entry point
        text = (ROOT / "benchmarks" / f"{name}.py").read_text()
        body = text[text.index("def main("):].split("\n", 1)[1]
        assert body.lstrip().startswith("setup_environment()"), name


def test_importing_the_benchmarks_changes_nothing():
    # a fresh interpreter: the third-party imports first (scikit-learn sets a variable of its own), then the
    # benchmark modules, which must leave the environment as it was and import no Hugging Face module
    code = ("import os, sys, json, importlib\n"
            "import numpy, sklearn, scipy, pandas, torch, dsl_plugin.compare, dsl_plugin.data\n"
            "before = dict(os.environ)\n"
            f"for m in {[f'benchmarks.{s}' for s in SCRIPTS]!r}: importlib.import_module(m)\n"
            "print(json.dumps({'changed': sorted(k for k in set(before) | set(os.environ)"
            " if before.get(k) != os.environ.get(k)), 'hf': [m for m in ('transformers', 'huggingface_hub')"
            " if m in sys.modules]}))\n")
    env = {k: v for k, v in os.environ.items() if k not in benchmarks.ENVIRONMENT and k != "OMP_NUM_THREADS"}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"changed": [], "hf": []}


def test_setup_environment_keeps_what_the_caller_set(monkeypatch):
    import torch

    threads = torch.get_num_threads()
    for name in [*benchmarks.ENVIRONMENT, "OMP_NUM_THREADS"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BENCH_THREADS", "3")
    try:
        benchmarks.setup_environment()
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TOKENIZERS_PARALLELISM"] == "false"
        assert os.environ["OMP_NUM_THREADS"] == "3" == os.environ["BENCH_THREADS"] and benchmarks.threads() == 3
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(threads)


def test_old_records_are_still_read():
    # every data set named in the committed records is still defined, and every record file still loads
    from benchmarks import run

    for name in ("runs.jsonl", "quality_study.jsonl", "lm_choice.jsonl", "sweep.jsonl"):
        path = ROOT / "benchmarks" / "results" / name
        recs = [json.loads(x) for x in path.read_text().splitlines() if x]
        assert {r["dataset"] for r in recs} <= set(bench_data.DATASETS), name
        assert run.load_runs(path, current_only=False) == recs


# --------------------------------------------------------------------------- the shared data

def test_load_20newsgroups_counts(shared_data):
    texts_all, labels_all = bench_data.load_20newsgroups(drop_empty=False, data_dir=shared_data)
    assert len(texts_all) == len(labels_all) == 18846
    texts, labels = bench_data.load_20newsgroups(data_dir=shared_data)
    assert len(texts) == len(labels) == 18846 - 515 == 18331
    assert all(t.strip() for t in texts)
    assert len(set(labels)) == 20
    keep = [i for i, t in enumerate(texts_all) if t.strip()]
    assert texts == [texts_all[i] for i in keep] and labels == [labels_all[i] for i in keep]


def test_load_stackoverflow_counts(shared_data):
    from collections import Counter

    texts, labels = bench_data.load_stackoverflow(data_dir=shared_data)
    assert len(texts) == len(labels) == 20000
    names = json.loads((shared_data / "stackoverflow" / "label_names.json").read_text()).values()
    assert Counter(labels) == {name: 1000 for name in names}
    assert texts[0].startswith("How do I fill a DataSet or a DataTable from a LINQ query") and labels[0] == "linq"
    assert all(isinstance(t, str) and t for t in texts)


def test_load_tweet_topic_counts(shared_data):
    from collections import Counter

    texts, labels = bench_data.load_tweet_topic(data_dir=shared_data)
    assert len(texts) == len(labels) == 21996
    assert len(set(texts)) == 5790
    assert len(set(labels)) == 19
    assert Counter(labels)["sports"] == 7883
    assert not any(t.endswith("\r") or lab.endswith("\r") for t, lab in zip(texts, labels))
    u_texts, u_labels = bench_data.load_tweet_topic(unique=True, data_dir=shared_data)
    assert len(u_texts) == len(u_labels) == 5790 == len(set(u_texts))
    assert Counter(u_labels)["sports"] == 1949


def test_generic_sample_equals_the_20newsgroups_loader_sample(shared_data):
    # the benchmark's 20NG sample is defined through load_texts: it must stay the corpus cached by earlier runs
    assert bench_data.load_texts("20newsgroups", sample=500, sample_seed=0, data_dir=shared_data) == \
        bench_data.load_20newsgroups(sample=500, seed=0, data_dir=shared_data)


def test_the_package_has_no_shared_data_loader():
    import dsl_plugin.data as data

    assert not {"shared_data_dir", "load_20newsgroups", "load_stackoverflow", "load_tweet_topic"} & set(dir(data))
    assert sorted(data.DATASETS) == ["demo"]
    with pytest.raises(ValueError, match="python -m benchmarks.bench_data"):
        data.load_texts("20newsgroups")


def test_shared_data_dir_follows_the_variable_and_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("DSL_SHARED_DATA", str(tmp_path))
    assert bench_data.shared_data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="20newsgroups_bydate.jsonl.gz is missing"):
        bench_data.load_20newsgroups()


def _debian_lists(folder, packages, english, compress=None, apt_names=True) -> None:
    """The two lists (records: dicts) under apt's names or a mirror's, ``compress``: ".gz" / ".xz" or None."""
    import gzip
    import lzma

    def deb822(records):
        return "\n\n".join("\n".join(f"{k}: {v}" for k, v in r.items()) for r in records) + "\n"
    for name, records in (("binary-amd64_Packages", packages), ("i18n_Translation-en", english)):
        data = deb822(records).encode()
        data = {None: bytes, ".gz": gzip.compress, ".xz": lzma.compress}[compress](data)
        filename = (f"deb.debian.org_debian_dists_bookworm_main_{name}" if apt_names else name.split("_")[1])
        (folder / (filename + (compress or ""))).write_bytes(data)


_LONG = " ".join(f"word{i}" for i in range(bench_data.DEBIAN_MIN_WORDS))


def _package(name, section, source=None, long=True):
    """(a Packages record, its Translation-en record) of one binary package."""
    packages = {"Package": name, **({"Source": f"{source} (1.0)"} if source else {}), "Section": section,
                "Description-md5": f"{name}-md5"}
    return packages, {"Package": name, "Description-md5": f"{name}-md5",
                      "Description-en": f"{name} synopsis\n {_LONG if long else 'too short'}\n .\n more"}


@pytest.fixture
def any_debian_lists(monkeypatch):
    monkeypatch.setenv(bench_data.DEBIAN_ANY_LISTS_ENV, "1")


def test_debian_descriptions_one_package_per_source_long_ones_labelled_by_section(tmp_path, any_debian_lists):
    records = [_package("a-short", "games", source="a", long=False), _package("a-tools", "sound", source="a"),
               _package("b-extra", "math", source="b"), _package("b-tools", "science", source="b"),
               _package("libc1", "libs", source="c"), _package("c-doc", "doc", source="c"),
               _package("d", "perl/sound"), _package("e", "sound", long=False)]
    english = [t for _, t in records] + [{"Package": "untranslated"}]  # (a record without a description: ignored)
    _debian_lists(tmp_path, [p for p, _ in records] + [{"Package": "untranslated", "Section": "games"}], english)
    texts, labels = bench_data.load_debian_descriptions(tmp_path)
    # a's first package is too short, so its next one counts; b's first by name wins; c has no kept section (libs,
    # doc); e is too short; d's section is read after its area ("perl/sound" -> sound)
    assert labels == ["sound", "math", "sound"]
    assert [t.split(" synopsis")[0] for t in texts] == ["a-tools", "b-extra", "d"]
    assert texts[2] == f"d synopsis. {_LONG} more"


@pytest.mark.parametrize("compress, apt_names", [(".gz", True), (".xz", False), (None, False)])
def test_debian_lists_are_read_compressed_or_not_under_apt_or_mirror_names(tmp_path, any_debian_lists, compress,
                                                                          apt_names):
    records = [_package("d", "sound")]
    _debian_lists(tmp_path, [p for p, _ in records], [t for _, t in records], compress, apt_names)
    assert bench_data.load_debian_descriptions(tmp_path)[1] == ["sound"]


def test_debian_lists_other_than_the_sets_are_refused_unless_asked(tmp_path, monkeypatch):
    records = [_package("d", "sound")]
    _debian_lists(tmp_path, [p for p, _ in records], [t for _, t in records])
    monkeypatch.delenv(bench_data.DEBIAN_ANY_LISTS_ENV, raising=False)
    with pytest.raises(ValueError, match="not those the benchmark set was built from.*DSL_DEBIAN_ANY_LISTS=1"):
        bench_data.load_debian_descriptions(tmp_path)
    shas = [bench_data._debian_list(tmp_path, name)[1] for name in bench_data._DEBIAN_LISTS]
    monkeypatch.setattr(bench_data, "DEBIAN_LISTS_SHA256", dict(zip(bench_data._DEBIAN_LISTS, shas)))
    assert bench_data.load_debian_descriptions(tmp_path)[1] == ["sound"]  # the recorded lists: read


def test_debian_descriptions_say_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="Acquire::Languages=en"):
        bench_data.load_debian_descriptions(tmp_path)
    _debian_lists(tmp_path, [], [])
    _debian_lists(tmp_path, [], [], compress=".gz")  # two copies of each list: which one is meant?
    with pytest.raises(FileNotFoundError, match="found 2"):
        bench_data.load_debian_descriptions(tmp_path)


# --------------------------------------------------------------------------- smoke runs of the scripts

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """Results, work, logs and the teacher cache in a temporary folder, for this process and the harness's
    subprocesses; the converted LM copies stay shared (symbolic links to the real cache's)."""
    import torch

    from dsl_plugin.cache import default_cache_dir
    from dsl_plugin.teacher import _store

    root = tmp_path_factory.mktemp("bench")
    cache = root / "cache"
    cache.mkdir()
    real = default_cache_dir()
    for sub in ("models", "gguf"):
        (real / sub).mkdir(parents=True, exist_ok=True)
        (cache / sub).symlink_to(real / sub)
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in benchmarks.ENVIRONMENT.items():  # as setup_environment would: it then changes nothing
            mp.setenv(name, os.environ.get(name, value))
        mp.setenv("BENCH_THREADS", str(threads))
        mp.setenv("OMP_NUM_THREADS", str(threads))
        for name in ("results", "work", "logs"):
            mp.setenv(f"DSL_BENCH_{name.upper()}", str(root / name))
        mp.setenv("DSL_PLUGIN_CACHE", str(cache))
        mp.setattr(_store, "default_cache_dir", lambda: cache)
        mp.chdir(ROOT)  # the harness's subprocesses run `python -m benchmarks.run` from here
        yield root
    torch.set_num_threads(threads)


def _records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def teacher_pass(bench):
    """``python -m benchmarks.teacher_pass`` on the tiny set: by LM name and by a DSL variant's teacher."""
    from benchmarks import teacher_pass

    teacher_pass.main(["--lm", LM, "--variant", LEVER, "--datasets", TINY])
    return _records(bench / "results" / "teacher_runs.jsonl")


@pytest.fixture(scope="module")
def protocol_run(bench, teacher_pass):
    """``python -m benchmarks.run``: one DSL cell (a ``--one`` subprocess), then the report. The one fit of the
    smoke runs: choose_lm and quality_study are grids of the same harness, and are given its record."""
    from benchmarks import run

    run.main(["--datasets", TINY, "--models", LEVER, "--ks", "25", "--seeds", "0", "--jobs", "1"])
    return _records(bench / "results" / "runs.jsonl")


def test_bench_data_writes_a_benchmark_set(bench, tmp_path):
    bench_data.main([TINY, "--out", str(tmp_path / "tiny")])
    corpus, folder = bench_data.prepare(TINY)
    assert folder == bench / "work" / TINY and (folder / "raw_documents.jsonl").exists()
    assert len(corpus) == 36 and len(set(corpus.labels)) == 6
    assert (tmp_path / "tiny" / "corpus.tsv").read_text() == (folder / "corpus.tsv").read_text()


def test_teacher_pass(teacher_pass):
    first, second = teacher_pass
    assert first["lm"] == second["lm"] == LM and first["dataset"] == TINY and first["n_docs"] == 36
    assert first["computed"] == 36 and second["variant"] == LEVER
    assert second["computed"] in (0, 36)  # 0 while DSL's default teacher settings are TeacherConfig's (cached)
    assert first["threads"] >= 1 and "cores" in first["machine"]


def test_run_harness_and_report(bench, protocol_run):
    (rec,) = protocol_run
    assert "error" not in rec, rec.get("error")
    assert (rec["dataset"], rec["model"], rec["k"], rec["seed"], rec["n_docs"]) == (TINY, LEVER, 25, 0, 36)
    assert 0 < rec["metrics"]["purity"] <= 1 and rec["config"] == variants.DSL_VARIANTS[LEVER]
    results = bench / "results"
    assert f"| {LEVER} |" in (results / f"{TINY}.md").read_text() and (results / f"{TINY}.png").exists()
    assert f"[{TINY}]({TINY}.md): 1 runs" in (results / "README.md").read_text()
    assert (bench / "logs" / f"{TINY}_{LEVER}_K25_s0.log").exists()


def test_choose_lm(bench, protocol_run):
    from benchmarks import choose_lm

    # the harness's record of the same cell: run_grid finds it finished (no second subprocess), report reads it
    (bench / "results" / "lm_choice.jsonl").write_text(json.dumps(protocol_run[0]) + "\n")
    choose_lm.main(["--datasets", TINY, "--models", LEVER, "--seeds", "0", "--k", "25"])
    text = (bench / "results" / "lm_choice.md").read_text()
    assert f"| {LM} | {TINY} | 1 |" in text and "K=25" in text


def test_sweep_dsl(bench, teacher_pass):
    from benchmarks import sweep_dsl

    sweep_dsl.main(["--dataset", TINY, "--k", "3", "--seeds", "0", "--settings", "smollm2, paper defaults"])
    (rec,) = _records(bench / "results" / "sweep.jsonl")
    assert rec["setting"] == "smollm2, paper defaults" and 0 < rec["metrics"]["purity"] <= 1
    assert "| smollm2, paper defaults | 3 | 0 |" in (bench / "results" / f"sweep_{TINY}.md").read_text()


def test_quality_study(bench, protocol_run):
    from benchmarks import quality_study

    study = bench / "results" / "quality_study.jsonl"
    study.write_text(json.dumps(protocol_run[0]) + "\n")  # the harness's record of this cell: found finished
    quality_study.main(["--levers", LEVER, "--datasets", TINY, "--ks", "25", "--seeds", "0", "--jobs", "1"])
    assert _records(study) == protocol_run
    quality_study.main(["--measure-cost", "--levers", LEVER, "--datasets", TINY, "--cost-docs", "6"])
    (cost,) = _records(bench / "results" / "teacher_cost.jsonl")
    assert cost["n_docs"] == 6 and len(cost["teacher_seconds_per_doc"]) == 1  # one teacher: same LM and prompt
    text = (bench / "results" / "quality_study.md").read_text()
    assert f"### {TINY}" in text and f"| {LEVER} |" in text and (bench / "results" / "quality_study.png").exists()
    assert "| 1.00x |" in text  # the lever's teacher costs what the default's does (measured back to back)


def test_probes_are_reported_next_to_the_default_on_their_cell():
    """A probe (variants.PROBES: no rule, usually one fit) is in the study's report with its settings, next to the
    default protocol's DSL() run of the same data set, K and seed; other levers and cells are not in that table."""
    from benchmarks.quality_study import probe_lines

    metrics = {"purity": .5, "p10": .4, "td": .9}
    probe = {"dataset": "d", "model": "Q-tokens-fastopic", "k": 50, "seed": 0, "metrics": metrics}
    lever = dict(probe, model="Q-tokens-ep200")
    default = dict(probe, model="DSL", metrics={"purity": .6, "p10": .45, "td": .8})
    lines = probe_lines([probe, lever], [default, dict(default, seed=1, metrics=metrics)])
    (row,) = [line for line in lines if line.startswith("| Q-")]
    assert row.startswith("| Q-tokens-fastopic | `{") and '"backbone": "fastopic"' in row
    assert row.endswith("| d | 50 | 0 | 0.500 / 0.400 / 0.900 | 0.600 / 0.450 / 0.800 |")
    assert probe_lines([lever], [default]) == []


def test_finished_cells_need_metrics():
    """A cell counts as finished when its newest record has the metrics asked for; an error record never does."""
    from benchmarks.run import finished_cells

    old = {"dataset": "d", "model": "m", "k": 25, "seed": 0, "metrics": {"purity": .5}}
    new = {**old, "metrics": {"purity": .5, "nmi": .3, "ari": .2, "p1": .6}}
    other = {**old, "seed": 1}
    error = {"dataset": "d", "model": "m", "k": 25, "seed": 2, "error": "boom"}
    assert finished_cells([old, other, error]) == {("d", "m", 25, 0), ("d", "m", 25, 1)}
    assert finished_cells([old, other, error], ("nmi", "ari", "p1")) == set()
    assert finished_cells([old, new, other], ("nmi", "ari", "p1")) == {("d", "m", 25, 0)}
    assert finished_cells([new, old], ("nmi",)) == set()  # the newest record is the one the tables show


def test_a_rerun_cell_counts_once_in_the_study_and_the_tables(tmp_path):
    """A cell rerun (e.g. by --need-metrics) has two records; means and Welch tests count its newest one only."""
    from benchmarks.quality_study import _load
    from benchmarks.run import newest_runs

    first = {"dataset": "d", "model": "FASTopic", "k": 25, "seed": 0, "metrics": {"purity": .5, "p10": .4}}
    rerun = {**first, "metrics": {"purity": .6, "p10": .5, "nmi": .3}}
    other = {**first, "seed": 1}
    error = {"dataset": "d", "model": "FASTopic", "k": 25, "seed": 2, "error": "boom"}
    assert newest_runs([first, other, rerun, error]) == [rerun, other]
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (first, other, rerun)))
    assert sorted(r["metrics"]["purity"] for r in _load(path)) == [.5, .6]


def test_decision_on_copies():
    """The copy-wise decision of RULE3 step 2 / RULE4: a lever is adopted only if its smallest gain (purity or P@10,
    over every set) is above +.005; one missing run leaves the decision open."""
    from benchmarks.quality_study import _decide_on_copies

    def runs(model, ds, purity, p10):
        return [{"model": model, "dataset": ds, "k": 25, "seed": s, "metrics": {"purity": purity, "p10": p10}}
                for s in range(3)]
    study = runs("ref", "a", .50, .50) + runs("ref", "b", .60, .60)
    study += runs("up", "a", .52, .51) + runs("up", "b", .61, .607)  # smallest gain +.007: adopted
    study += runs("mixed", "a", .60, .60) + runs("mixed", "b", .62, .60)  # P@10 gain 0 on b: not adopted
    chosen, lines = _decide_on_copies(study, "ref", ["up", "mixed"], ["a", "b"], "## t", "long documents")
    assert chosen == "up" and lines[-2] == "Adopted for long documents: **up**."
    assert any(line.startswith("| mixed |") and line.endswith("| no |") for line in lines)
    chosen, lines = _decide_on_copies(study[:-1], "ref", ["up", "mixed"], ["a", "b"], "## t", "long documents")
    assert chosen is None and "Undecided until mixed" in lines[-2]
    # RULE5: a bar per copy (a gain where the lever acts, no harm where it rarely does)
    study += runs("acts", "a", .52, .51) + runs("acts", "b", .597, .598)  # -.003 on b: within the -.005 bar
    bars = {"a": .005, "b": -.005}
    chosen, _ = _decide_on_copies(study, "ref", ["acts"], ["a", "b"], "## t", "long documents", min_gain=bars)
    assert chosen == "acts"
    chosen, lines = _decide_on_copies(study, "ref", ["acts"], ["a", "b"], "## t", "long documents")
    assert chosen is None and lines[-2].startswith("No lever clears +0.005 on a / +0.005 on b")
    study += runs("harms", "a", .53, .53) + runs("harms", "b", .59, .60)  # -.010 on b: refused
    assert _decide_on_copies(study, "ref", ["harms"], ["a", "b"], "## t", "x", min_gain=bars)[0] is None


def test_round7_decision(tmp_path):
    """RULE7: step 1 on 20NG at K 25 and 50 (a gain at K=50, no harm at K=25; ties within .005 go to the smaller
    weight), step 2 no harm on the token copy (required) and the short sets (else long corpora only)."""
    from benchmarks.quality_study import ROUND5_DEFAULT, decide_round7, round7_step1
    from benchmarks.run import DSL_VARIANTS, load_runs, settings

    def runs(model, ds, k, purity, p10, td=.8):
        return [{"model": model, "dataset": ds, "k": k, "seed": s, "metrics": {"purity": purity, "p10": p10, "td": td}}
                for s in range(3)]
    # the reference: "DSL" records made by 0.4 (no diversity_weight in their settings), read as the report reads them
    protocol = runs("DSL", "20newsgroups", 25, .57, .53) + runs("DSL", "20newsgroups", 50, .57, .54)
    for ds in ("stackoverflow-4k", "tweet_topic-4k"):
        protocol += runs("DSL", ds, 25, .77, .76) + runs("DSL", ds, 50, .77, .76)
    old = {k: v for k, v in settings(DSL_VARIANTS["DSL-0.4"]).items() if k != "diversity_weight"}
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps({**r, "settings": old}) + "\n" for r in protocol))
    protocol = load_runs(path)
    assert {r["model"] for r in protocol} == {"DSL-0.4"}

    def on_20ng(model, k25, k50):
        return runs(model, "20newsgroups", 25, *k25) + runs(model, "20newsgroups", 50, *k50)
    study = on_20ng("Q-default-div1e2", (.57, .53), (.57, .55)) + on_20ng("Q-default-div1e3", (.57, .53), (.57, .554))
    assert round7_step1(study, protocol)[0] is None  # div1e4 not run yet
    study += on_20ng("Q-default-div1e4", (.56, .53), (.6, .6))
    chosen, lines = round7_step1(study, protocol)
    assert chosen == "Q-default-div1e2"  # +.010 vs +.014 at K=50 (within .005: the smaller weight); 1e4 harms K=25
    assert any(line.startswith("| Q-default-div1e4 |") and line.endswith("| no |") for line in lines)
    tokens = [runs(m, "20newsgroups-tokens", k, .46, .42) for m in (ROUND5_DEFAULT, chosen) for k in (25, 50)]
    short = [runs(chosen, ds, k, .77, .758) for ds in ("stackoverflow-4k", "tweet_topic-4k") for k in (25, 50)]
    assert decide_round7(study + sum(tokens, []), protocol)[0] is None  # short sets not run yet
    assert decide_round7(study + sum(tokens + short, []), protocol)[0] == (chosen, "every corpus")
    harmed = [runs(chosen, "stackoverflow-4k", k, .77, .74) for k in (25, 50)]
    assert decide_round7(study + sum(tokens + harmed + short[2:], []), protocol)[0] == (chosen, "long corpora")
    tokens_harmed = tokens[:2] + [runs(chosen, "20newsgroups-tokens", k, .45, .42) for k in (25, 50)]
    assert decide_round7(study + sum(tokens_harmed + short, []), protocol)[0] is None


def test_rerun_agreement():
    """The results index says how far reruns of a cell are from its first record (purity or P@10)."""
    from benchmarks.run import _rerun_agreement

    def rec(model, seed, purity, p10):
        return {"dataset": "d", "model": model, "k": 25, "seed": seed, "metrics": {"purity": purity, "p10": p10}}
    records = [rec("same", 0, .5, .4), rec("same", 0, .5, .4), rec("moved", 0, .5, .4), rec("moved", 1, .6, .6),
               rec("moved", 0, .5, .43), rec("moved", 1, .58, .6), {"dataset": "d", "model": "moved", "k": 25,
                                                                      "seed": 0, "error": "boom"}]
    lines = _rerun_agreement(records)
    assert "| same | 1 | 1 | 0.0000 |" in lines and "| moved | 2 | 0 | 0.0300 |" in lines
    assert _rerun_agreement(records[:1] + records[2:4]) == []


def test_compare_tokenizers(bench, protocol_run):
    from benchmarks import compare_tokenizers

    # a run on the as-written copy (the same record: this script's work is the corpus statistics and the table)
    written = dict(protocol_run[0], dataset=f"{TINY}-aswritten")
    with open(bench / "results" / "runs.jsonl", "a") as f:
        f.write(json.dumps(written) + "\n")
    compare_tokenizers.main(["--pairs", f"{TINY}-aswritten", "--k", "25"])
    text = (bench / "results" / "tokenizer_effect.md").read_text()
    assert "| ours |" in text and "| as written |" in text and f"| {LEVER} (n=1) |" in text
    assert (bench / "results" / "tokenizer_effect.png").exists()


def test_diagnose_teacher(bench, teacher_pass):
    from benchmarks import diagnose_teacher

    diagnose_teacher.main(["--dataset", TINY, "--lm", LM, "--sample", "36"])
    text = (bench / "results" / f"teacher_diagnosis_{TINY}_{LM}.md").read_text()
    assert "| hidden states, centred cosine |" in text and "vocabulary words are more than one LM token" in text


def test_judge_check(bench):
    from benchmarks import judge_check

    judge_check.main([LM])
    text = (bench / "results" / "llm_judge_check.md").read_text()
    assert re.search(rf"\| {LM} \|( \d\.\d\d \|){{6}} (yes|no) \|", text), text


def test_gpu_benchmark_skips_cleanly_without_cuda(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the benchmark would run")
    out = tmp_path / "gpu.md"
    res = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("SKIP: no CUDA device") and not out.exists()


def test_gpu_benchmark_dry_run_on_cpu(bench, tmp_path):
    from benchmarks import gpu

    out = tmp_path / "gpu.md"
    assert gpu.main(["--device", "cpu", "--lm", LM, "--data", "demo", "--n-diff", "4", "--n-speed", "4",
                     "--repeats", "1", "--cpu-threads", "1", "--out", str(out)]) == 0
    row = [x for x in out.read_text().splitlines() if x.startswith(f"| {LM} | float32 |")]
    assert row and "0.00e+00" in row[0]  # fp32 on the CPU against the fp32 CPU reference: identical


def test_perf(bench):
    from benchmarks import perf

    out = bench / "results" / "perf.md"
    perf.main(["--tiny", "--lm", LM, "--extra-lm", "--section", "no-ray", "--all-cores", "1", "--out", str(out)])
    text = out.read_text()
    for section in ("1. GEMM peak", "2. Teacher throughput", "2b. Teacher at all cores", "3. Peak memory",
                    "4. Training", "5. HPO reuse", "6. How long"):
        assert f"## {section}" in text, section
    assert "## 7." not in text and "| Optimizer: LM passes only in the first call | **PASS** |" in text
    assert re.search(r"\| peak memory 240 docs within 10% of 60 \| \*\*(PASS|FAIL)\*\* \| \d\.\d{3}x", text)


def test_cpu_teacher_section(bench):
    from benchmarks import cpu_teacher

    out = bench / "results" / "perf.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("# Performance benchmark\n\n## 1. GEMM peak of this box\n\nkept\n")
    cpu_teacher.main(["--datasets", TINY, "--docs", "6", "--lm", LM, "--out", str(out)])
    text = out.read_text()
    assert "## 1. GEMM peak of this box\n\nkept" in text and f"## {cpu_teacher.TITLE}" in text
    assert re.search(rf"\| {TINY} \| \d+ \| \d+ \| \d+\.\d\dx \| \d\.\d{{3}} \|", text), text
    assert "int8 run(s): not enough" in text  # no DSL-int8 run of the tiny set: no quality row is made up


@pytest.mark.slow
def test_perf_ray_section(bench):
    pytest.importorskip("ray.data")
    from benchmarks import perf

    out = bench / "results" / "perf_ray.md"
    perf.main(["--tiny", "--lm", LM, "--section", "ray", "--out", str(out)])
    text = out.read_text()
    assert "## 7. Teacher on Ray" in text and "byte-identical to the single-process pass: **yes**" in text


def test_neighbours_cost(bench):
    from benchmarks import neighbours_cost

    neighbours_cost.main(["--sizes", "300", "600", "--batches", "4", "--target-docs", "200"])
    text = (bench / "results" / "neighbours_cost.md").read_text()
    assert re.search(r"\| 600 \| 1 \| \d+\.\d \| \d\.\d{3} \|", text), text
    assert re.search(r"Pooled / own: \d+\.\dx per batch", text), text


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="measures on the GPU when there is one")
def test_neighbours_cost_on_a_gpu_skips_cleanly_without_cuda(bench, capsys):
    from benchmarks import neighbours_cost

    neighbours_cost.main(["--device", "cuda", "--sizes", "300"])
    assert "needs CUDA" in capsys.readouterr().out
    assert not (bench / "results" / "neighbours_cost_cuda.md").exists()


def test_neighbour_agreement(bench):
    from benchmarks import neighbour_agreement

    neighbour_agreement.main(["--datasets", TINY, "--k", "3"])
    text = (bench / "results" / "neighbour_agreement.md").read_text()
    assert re.search(rf"\| {TINY} \| 36 \| [01]\.\d{{3}} \| [01]\.\d{{3}} \| 0\.\d{{3}} \|", text), text
    # the packaged MiniLM's whole-word share of the (English) demo corpus, the column that decides 0.11's pooling
    assert re.search(rf"\| {TINY} \| 36 \|.*\| 0\.[5-9]\d\d \|$|\| {TINY} \| 36 \|.*\| 1\.000 \|$", text, re.M), text


def test_target_retrieval(bench, protocol_run):
    """The targets' diagnostic on the tiny set for the smoke runs' variant (its teacher pass is cached): one line per
    (data set, variant, version), five P@10 columns, the student's from the harness's one run (K=25); a second call
    computes nothing new."""
    from benchmarks import target_retrieval

    target_retrieval.main(["--datasets", TINY, "--variant", LEVER])
    target_retrieval.main(["--datasets", TINY, "--variant", LEVER])
    assert len(_records(bench / "results" / "target_retrieval.jsonl")) == 1
    text = (bench / "results" / "target_retrieval.md").read_text()
    assert re.search(rf"\| {TINY} \| {LEVER} \| [\d.]+ \| ([01]\.\d{{3}} \| ){{5}}– \| [01]\.\d{{3}} \(n=1\) \|",
                     text), text


def test_theta_sharpness_tempering_keeps_the_argmax_and_flattens():
    """The diagnostic's tempered theta: T=1 is theta itself, larger T flattens each row towards uniform (sum 1), the
    largest topic of every document stays the same (so purity cannot change)."""
    import numpy as np

    from benchmarks.theta_sharpness import tempered

    theta = np.random.default_rng(0).dirichlet(np.ones(6) * .3, size=20)
    np.testing.assert_allclose(tempered(theta, 1.0), theta, rtol=1e-6, atol=1e-12)
    flat = tempered(theta, 3.0)
    np.testing.assert_allclose(flat.sum(1), 1.0, rtol=1e-9)
    assert (flat.argmax(1) == theta.argmax(1)).all() and (flat.max(1) < theta.max(1)).all()


def test_only_the_newest_default_is_read_from_the_dsl_row():
    """A round's BBC step reads the row of the default it made: "DSL" means today's default, so only the round that
    made it may read "DSL"; an earlier round reads its version's pinned row (once a later default replaced it, reading
    "DSL" would show the newer model's numbers as the older one's)."""
    from benchmarks import quality_study, variants

    steps = [r.after for _, r in quality_study.LATER_ROUNDS if isinstance(r.after, quality_study.BbcStep)]
    assert steps and [s.candidate for s in steps].count("DSL") <= 1
    assert all(s.before in variants.DSL_VARIANTS for s in steps)
    # a version whose default was replaced has a pinned row (its own, or that of the last version that trained the same
    # model): its round reads that row, never "DSL"; only the newest round may read "DSL"
    assert all(s.candidate in variants.DSL_VARIANTS and s.candidate != "DSL" for s in steps[:-1])
    assert steps[-1].candidate in ("DSL", f"DSL-{steps[-1].version}")


def test_a_confirmation_step_withdraws_a_lever_only_when_it_is_significantly_lower():
    """A round's confirmation set (WeightRound.confirm): Welch p < .05 and a lower mean on either metric withdraws the
    lever; otherwise it is confirmed; missing runs leave it undecided."""
    from benchmarks.quality_study import ROUND16, confirmation_step

    def runs(model, purity, p10, jitter=0.0):
        return [{"dataset": ROUND16.confirm, "model": model, "k": k, "seed": s,
                 "metrics": {"purity": purity + jitter * (s - 1) + k / 1e4, "p10": p10 + jitter * (s - 1)}}
                for k in ROUND16.ks for s in range(3)]
    ref = runs(ROUND16.reference, .40, .33, .002)
    lever = ROUND16.levers[0]
    assert "**Confirmed**" in "\n".join(confirmation_step(ROUND16, lever, ref + runs(lever, .41, .33, .003)))
    lower = "\n".join(confirmation_step(ROUND16, lever, ref + runs(lever, .40, .30, .002)))
    assert "**Withdrawn**: significantly lower on p10" in lower
    assert "Undecided" in "\n".join(confirmation_step(ROUND16, lever, ref + runs(lever, .41, .33)[:4]))


def test_harm_on_any_of_several_stopping_sets_stops_a_round():
    """WeightRound.stop_sets with two sets (round 16: StackOverflow's token copy and DBPedia_IT): harm on either set
    stops the round; none harmed adopts the lever."""
    from benchmarks.quality_study import ROUND16, decide_weight_round

    def runs(model, ds, gain):
        return [{"dataset": ds, "model": model, "k": k, "seed": s,
                 "metrics": {"purity": .7 + gain, "p10": .7 + gain, "td": .9}} for k in ROUND16.ks for s in range(3)]
    lever = ROUND16.levers[0]
    study = (runs(ROUND16.reference, ROUND16.choose_set, 0) + runs(lever, ROUND16.choose_set, .02)
             + runs(ROUND16.levers[1], ROUND16.choose_set, .01))
    for ds in ROUND16.stop_sets:
        study += runs(ROUND16.reference, ds, 0)
    fine = study + [r for ds in ROUND16.stop_sets for r in runs(lever, ds, 0)]
    adopted, _ = decide_weight_round(ROUND16, fine, [])
    assert adopted == (lever, "short token-list corpora")
    harmed = study + runs(lever, ROUND16.stop_sets[0], 0) + runs(lever, "dbpedia_it", -.02)
    adopted, lines = decide_weight_round(ROUND16, harmed, [])
    assert adopted is None and "Harmed: `dbpedia_it`: not adopted" in "\n".join(lines)


def test_a_round_of_one_confirmation_step_goes_to_its_confirmation():
    """A WeightRound without a choosing set (round 21) has its one lever adopted already: no step 1 or no-harm step,
    its heading names the confirmation set, and the confirmation decides (confirmation_step)."""
    from benchmarks.quality_study import ROUND20, ROUND21, decide_weight_round

    assert ROUND21.choose_set is None and ROUND21.levers == ("Q-raw-nbr15-w075",)  # (round 20's adopted lever)
    assert (ROUND21.reference, ROUND21.reference_label, ROUND21.scopes) == (ROUND20.reference, ROUND20.reference_label,
                                                                            ROUND20.scopes)
    assert (ROUND21.confirm, ROUND21.confirm_step, ROUND21.no_harm) == ("debian-4k", 1, {})
    adopted, lines = decide_weight_round(ROUND21, [], [])
    assert adopted == (ROUND21.levers[0], "long raw text")
    assert ROUND21.confirm in lines[0] and "RULE21" in lines[0]


def test_reproduced_cells_names_the_cells_that_differ_or_are_missing():
    """RULE19's check that a default reproduces its predecessor on the sets the round did not change."""
    from benchmarks.quality_study import reproduced_cells

    def rec(model, k, seed, value):
        return {"dataset": "d", "model": model, "k": k, "seed": seed, "metrics": {"purity": value, "p10": .5}}
    before = [rec("B", k, s, .5) for k in (25, 50) for s in (0, 1, 2)]
    same = [rec("A", k, s, .5) for k in (25, 50) for s in (0, 1, 2)]
    assert reproduced_cells(before + same, "A", "B", "d") == "6 of 6 identical"
    changed = same[:5] + [rec("A", 50, 2, .51)]
    assert reproduced_cells(before + changed, "A", "B", "d") == "5 of 6 identical, differing: K=50 seed 2"
    assert reproduced_cells(before + same[1:], "A", "B", "d") == "5 of 6 identical, 1 not run by both"
