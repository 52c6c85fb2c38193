"""``dsl_plugin.compare`` / ``dsl-topic compare``: DSL and two cheap baselines on small corpora, resume, errors.

DSL runs with the suite's teacher settings (``dsl_kwargs``): on the JSONL copy of the session corpus its teacher
outputs come from the session cache; the OCTIS folder without raw text makes one real LM pass over the joined
tokens of its 48 documents (a few seconds).
"""

from __future__ import annotations

import csv
import json
import logging
import shutil

import numpy as np
import pytest

from dsl_plugin import compare as C
from dsl_plugin.cli import main
from dsl_plugin.data import write_octis_folder
from dsl_plugin.teacher import SoftLabelTeacher

from conftest import VOCAB_SIZE

K = 4
FAST = {"LDA": {"passes": 2}, "ProdLDA": {"num_epochs": 3}}


@pytest.fixture(scope="module")
def compare_params(dsl_kwargs):
    dsl = {k: v for k, v in dsl_kwargs.items() if k != "seed"}  # compare sets the seed
    return {"DSL": dsl, **FAST}


@pytest.fixture(scope="module")
def jsonl_file(demo_corpus, tmp_path_factory):
    texts, labels = demo_corpus
    path = tmp_path_factory.mktemp("cmp_data") / "demo.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in zip(texts, labels)))
    return path


@pytest.fixture(scope="module")
def folder_without_raw(prepared, tmp_path_factory):
    folder = write_octis_folder(prepared, tmp_path_factory.mktemp("cmp_octis") / "octis")
    (folder / "raw_documents.jsonl").unlink()
    return folder


def _numbers_in_tables(result, models, labelled):
    md = (result.out_dir / "comparison.md").read_text()
    for m in models:
        row = next(line for line in md.splitlines() if line.startswith(f"| {m} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][2:]
        assert cells and all("±" in c for c in cells), row  # a number in every metric column
    rows = list(csv.DictReader(open(result.out_dir / "comparison.csv")))
    assert {r["model"] for r in rows} == set(models)
    keys = ["c_v", "c_npmi", "irbo", "td"] + (["purity", "inverse_purity", "p5", "p10"] if labelled else [])
    for r in rows:
        for key in keys:
            assert np.isfinite(float(r[f"{key}_mean"])), (r["model"], key)
    if not labelled:
        assert "purity_mean" not in rows[0]
    assert (result.out_dir / "plots" / "metrics.png").stat().st_size > 0
    for m in models:
        assert (result.out_dir / "plots" / f"{m}-K{K}-topics.png").exists()
        assert (result.out_dir / "plots" / f"{m}-K{K}-documents.png").exists()


def test_compare_octis_folder_without_raw_text(folder_without_raw, compare_params, tmp_path):
    models = ["DSL", "LDA", "ProdLDA"]
    with pytest.warns(UserWarning, match="no raw text"):
        result = C.compare(folder_without_raw, models=models, ks=[K], seeds=1, out_dir=tmp_path / "out",
                           params=compare_params, progress=False)
    assert not result.data.has_raw_text and result.data.has_labels
    assert len(result.runs) == 3 and not result.failed
    _numbers_in_tables(result, models, labelled=True)
    assert "NO raw text" in result.markdown


def test_compare_jsonl_resumes_and_cli(jsonl_file, compare_params, teacher_outputs, tmp_path, monkeypatch, capsys,
                                       caplog):
    models = ["DSL", "LDA", "ProdLDA"]
    before = SoftLabelTeacher.total_forward_passes
    result = C.compare(jsonl_file, models=models, ks=[K], seeds=2, out_dir=tmp_path / "out", params=compare_params,
                       vocabulary_size=VOCAB_SIZE, progress=False)
    assert SoftLabelTeacher.total_forward_passes == before  # the session teacher cache served DSL
    assert result.data.has_raw_text and result.data.has_labels and result.data.n_docs == 48
    assert len(result.runs) == 6 and sorted({r["seed"] for r in result.runs}) == [0, 1]
    _numbers_in_tables(result, models, labelled=True)
    table = result.table.set_index(["model", "k"])
    assert table.loc[("DSL", "all"), "runs"] == 2 and np.isfinite(table.loc[("DSL", "all"), "purity_mean"])
    # a DSL run says what it read on this corpus (its "auto" settings resolved) and the settings given
    dsl_run = next(r for r in result.runs if r["model"] == "DSL")
    assert dsl_run["notes"].startswith(f"DSL: LM {compare_params['DSL'].get('language_model', 'gemma3-270m')}, ")
    assert "; given {" in dsl_run["notes"] and f"**DSL**: {dsl_run['notes']}" in result.markdown
    assert set(dsl_run["resolved"]) >= {"input", "standardize_input", "target_neighbours", "num_epochs"}

    # rerun: every run is already in runs.jsonl, nothing is fitted again; a torn last line is ignored
    with open(result.files["runs"], "a") as f:
        f.write('{"model": "LDA", "k"')
    monkeypatch.setattr(C, "_fit", lambda *a, **k: pytest.fail("a finished run was fitted again"))
    again = C.compare(jsonl_file, models=models, ks=[K], seeds=2, out_dir=tmp_path / "out", params=compare_params,
                      vocabulary_size=VOCAB_SIZE, progress=False)
    assert len(again.runs) == 6
    monkeypatch.undo()

    # a folder made by another version: its DSL runs (whose defaults may differ) are redone, the baselines' kept
    class Refit(BaseException):  # not an Exception: compare does not record it as a failed run
        pass

    def refit(model, *args, **kwargs):
        raise Refit(model)
    monkeypatch.setattr("dsl_plugin.__version__", "0.0.0-other")
    monkeypatch.setattr(C, "_fit", refit)
    caplog.set_level(logging.INFO, logger=C.__name__)
    with pytest.raises(Refit, match="^DSL$"):
        C.compare(jsonl_file, models=models, ks=[K], seeds=2, out_dir=tmp_path / "out", params=compare_params,
                  vocabulary_size=VOCAB_SIZE, progress=False)
    assert "4 already in" in caplog.text and "2 to do" in caplog.text  # the two DSL runs only
    monkeypatch.undo()

    # the command line: two baselines on the same file, one more seed than before in another folder
    main(["compare", str(jsonl_file), "--models", "LDA", "ProdLDA", "--ks", str(K), "--seeds", "1", "--out",
          str(tmp_path / "cli"), "--param", "LDA.passes=2", "--param", "ProdLDA.num_epochs=3", "--quiet",
          "--no-plots", "--vocabulary-size", str(VOCAB_SIZE)])
    out = capsys.readouterr().out
    assert "| LDA | 1 (K=4) |" in out and "| ProdLDA | 1 (K=4) |" in out and "comparison.md" in out
    assert not (tmp_path / "cli" / "plots").exists()


def test_compare_unlabelled_list_and_tsv(tmp_path, demo_corpus):
    texts, _ = demo_corpus
    result = C.compare(texts, models=["LDA"], ks=[K], seeds=1, out_dir=tmp_path / "list", params={"LDA": FAST["LDA"]},
                       progress=False, plots=False)
    assert not result.data.has_labels
    _md = result.markdown
    assert "no labels" in _md and "Purity" not in _md.split("## All runs")[1].split("\n\n")[1]
    rows = list(csv.DictReader(open(result.files["csv"])))
    assert "purity_mean" not in rows[0] and np.isfinite(float(rows[0]["c_v_mean"]))
    # a TSV with the text in its first column and no label column reads the same documents
    tsv = tmp_path / "docs.tsv"
    tsv.write_text("body\tsource\n" + "".join(t.replace("\t", " ").replace("\n", " ") + "\tx\n" for t in texts))
    data = C.load_corpus(tsv)
    assert data.n_docs == len(texts) and not data.has_labels and data.has_raw_text


def test_bad_data_and_models_fail_before_training(tmp_path, monkeypatch, jsonl_file):
    monkeypatch.setattr(C, "_fit", lambda *a, **k: pytest.fail("a model was trained"))
    with pytest.raises(FileNotFoundError, match="nothere.jsonl: no such file"):
        C.compare(tmp_path / "nothere.jsonl", models=["LDA"], out_dir=tmp_path / "o")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a doc"}\n{"body": "no text key"}\n')
    with pytest.raises(ValueError, match=r'bad.jsonl line 2: expected a JSON object with a "text" key'):
        C.compare(bad, models=["LDA"], out_dir=tmp_path / "o")
    table = tmp_path / "t.csv"
    table.write_text("body,label\nhello world,a\n")
    with pytest.raises(ValueError, match=r"no column 'text'.*\['body', 'label'\]"):
        C.compare(table, models=["LDA"], text_column="text", out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="unsupported file type '.docx'"):
        (tmp_path / "x.docx").write_text("x")
        C.compare(tmp_path / "x.docx", models=["LDA"], out_dir=tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="without corpus.tsv"):
        C.compare(tmp_path, models=["LDA"], out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['NMF'\].*allowed: \['DSL', 'LDA'"):
        C.compare(jsonl_file, models=["DSL", "NMF"], out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="unknown override.*ProdLDA.*num_epoch"):
        C.compare(jsonl_file, models=["ProdLDA"], params={"ProdLDA": {"num_epoch": 3}}, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="unknown DSL hyper-parameter"):
        C.compare(jsonl_file, models=["DSL"], params={"DSL": {"epochs": 3}}, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="must not set"):
        C.compare(jsonl_file, models=["DSL"], params={"DSL": {"num_topics": 3}}, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="params given for"):
        C.compare(jsonl_file, models=["LDA"], params={"ProdLDA": {}}, out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="ks must be"):
        C.compare(jsonl_file, models=["LDA"], ks=[0], out_dir=tmp_path / "o")
    with pytest.raises(ValueError, match="seeds must be"):
        C.compare(jsonl_file, models=["LDA"], seeds=0, out_dir=tmp_path / "o")
    with pytest.raises(SystemExit, match="expected MODEL.NAME=VALUE"):
        main(["compare", str(jsonl_file), "--models", "LDA", "--param", "passes=2"])
    with pytest.raises(SystemExit, match="no such file"):
        main(["compare", str(tmp_path / "missing.tsv"), "--models", "LDA"])
    assert not (tmp_path / "o").exists()  # nothing was written either


def test_missing_optional_package_names_the_install_command(monkeypatch, tmp_path, jsonl_file):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastopic" else real(name, *a))
    with pytest.raises(ImportError, match=r"FASTopic baseline needs the 'fastopic'.*pip install --no-deps fastopic"):
        C.compare(jsonl_file, models=["LDA", "FASTopic"], out_dir=tmp_path / "o")
    # the adapter itself says the same when the import fails
    import sys

    from dsl_plugin.baselines._base import require

    monkeypatch.setitem(sys.modules, "fastopic", None)
    with pytest.raises(ImportError, match=r"pip install --no-deps fastopic==1.0.1"):
        require("fastopic", "FASTopic")


def test_octis_dataset_object_and_fingerprint(dataset, dataset_folder, tmp_path):
    data = C.load_corpus(dataset)
    assert data.has_raw_text and data.has_labels and data.n_docs == len(dataset.get_corpus())
    assert C.load_corpus(dataset_folder).fingerprint == data.fingerprint
    copy = tmp_path / "copy"
    shutil.copytree(dataset_folder, copy)
    (copy / "raw_documents.jsonl").unlink()
    with pytest.warns(UserWarning, match="no raw text"):
        assert C.load_corpus(copy).fingerprint != data.fingerprint
