"""Corpus preparation, OCTIS folders with aligned raw text, shared-data loaders, import hygiene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dsl_plugin import data
from dsl_plugin.data import (
    RAW_DOCUMENTS_FILE,
    build_vocabulary,
    prepare_corpus,
    read_raw_documents,
    tokenize,
    tokenize_as_written,
    write_octis_folder,
)

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- import hygiene

def test_dsl_is_an_octis_model():
    from octis.models.model import AbstractModel

    from dsl_plugin import DSL

    assert issubclass(DSL, AbstractModel)


def _imported_after(code: str) -> dict:
    probe = code + "\nimport json, sys\nprint(json.dumps({m: m in sys.modules for m in ('octis', 'bertopic')}))"
    res = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_import_dsl_plugin_does_not_import_octis_or_bertopic():
    assert _imported_after("import dsl_plugin") == {"octis": False, "bertopic": False}


def test_core_modules_do_not_import_octis_or_bertopic():
    # the package docstring promises this for data, teacher, cache, network and training
    code = "import dsl_plugin.data, dsl_plugin.teacher, dsl_plugin.cache, dsl_plugin.student"
    assert _imported_after(code) == {"octis": False, "bertopic": False}


# --------------------------------------------------------------------------- tokenisation / vocabulary

def test_tokenize_rules():
    text = "The QUICK brown fox's 2nd-hand X-ray is at 10am; Which mp3player ABOUT it? great!!"
    # lower-cased alphabetic runs; 'the'/'which'/'about' are stop words; 's', 'nd', 'x', 'is', 'at', 'am',
    # 'mp', 'it' are shorter than 3 letters; digits and punctuation split words
    assert tokenize(text) == ["quick", "brown", "fox", "hand", "ray", "player", "great"]
    assert tokenize("") == []
    assert tokenize("it is what it is, and so on.") == []  # only stop words / short words


def test_tokenize_as_written_rules():
    # the paper authors' filter: no lower-casing, only words written in lower case, never the first word of a
    # sentence, pieces with a non-letter dropped, split at hyphens/slashes
    text = "Magento: add a product attribute. Using LINQ with asp.net and utf8 strings? query drupal-views/blocks"
    assert tokenize_as_written(text) == ["add", "product", "attribute", "strings", "drupal", "views", "blocks"]
    assert tokenize(text)[:3] == ["magento", "add", "product"]  # the default tokenizer keeps the tag word
    # a line break also starts a sentence; the first word of every sentence is dropped even when lower case
    assert tokenize_as_written("hibernate mapping\nspring beans config") == ["mapping", "beans", "config"]
    assert tokenize_as_written("") == []


def test_prepare_corpus_tokenizer_option(tmp_path):
    texts = ["Magento shop product page", "Magento product attribute", "Drupal views module page"]
    default = prepare_corpus(texts, ["m", "m", "d"])
    written = prepare_corpus(texts, ["m", "m", "d"], tokenizer="as_written")
    assert "magento" in default.vocabulary and "magento" not in written.vocabulary
    assert written.tokens == [["shop", "product", "page"], ["product", "attribute"], ["views", "module", "page"]]
    meta = json.loads((write_octis_folder(written, tmp_path / "w") / "metadata.json").read_text())
    assert "sentence-initial words dropped" in meta["preprocessing-info"]
    with pytest.raises(ValueError, match="unknown tokenizer 'spacy'"):
        prepare_corpus(texts, tokenizer="spacy")


def test_build_vocabulary_top_v_ties_alphabetical():
    docs = [["beta", "alpha", "gamma"], ["gamma", "delta"], ["beta"], ["epsilon"]]
    # counts: beta 2, gamma 2, alpha 1, delta 1, epsilon 1
    assert build_vocabulary(docs, size=3) == ["beta", "gamma", "alpha"]
    assert build_vocabulary(docs, size=4) == ["beta", "gamma", "alpha", "delta"]
    assert build_vocabulary(docs, size=100) == ["beta", "gamma", "alpha", "delta", "epsilon"]
    # independent of document order
    assert build_vocabulary(docs[::-1], size=3) == ["beta", "gamma", "alpha"]
    with pytest.raises(ValueError, match="vocabulary_size must be an integer >= 1"):
        build_vocabulary(docs, size=0)


def test_prepare_corpus_vocabulary_is_top_v_of_the_corpus(demo_corpus, prepared):
    texts, _ = demo_corpus
    counts = Counter(w for t in texts for w in tokenize(t))
    expected = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:300]
    assert prepared.vocabulary == expected
    assert len(prepared.vocabulary) == 300
    # deterministic: a second run gives the same result
    again = prepare_corpus(*demo_corpus, vocabulary_size=300)
    assert again.vocabulary == prepared.vocabulary and again.tokens == prepared.tokens
    # tokens are exactly the vocabulary words of each document, in text order
    vocab = set(prepared.vocabulary)
    for raw, toks in zip(prepared.raw_texts, prepared.tokens):
        assert toks == [w for w in tokenize(raw) if w in vocab]


def test_prepare_corpus_with_given_vocabulary():
    c = prepare_corpus(["Rivers and river banks", "A bank loan"], vocabulary=["bank", "river"])
    assert c.vocabulary == ["bank", "river"]
    assert c.tokens == [["river"], ["bank"]]  # 'rivers'/'banks' are different words (no stemming)
    with pytest.raises(ValueError, match="duplicate"):
        prepare_corpus(["a river"], vocabulary=["river", "river"])


# --------------------------------------------------------------------------- OCTIS folder + raw documents

TEXTS = [
    "Astronomers observed a distant galaxy with the new telescope.",
    "The striker scored twice and the football club won the league.",
    "It is what it is, and so on.",  # empty after preprocessing
    "The telescope mirror was polished before the launch of the rocket.",
    "Fans sang in the stadium while the club celebrated the league title.",
    "A rocket launch carried the telescope into orbit around the planet.",
    "The football league fined the club after the match.",
    "Orbit, planet, galaxy: astronomers love the telescope.",
]
LABELS = ["space", "football", "other\nline", "space", "football", "space", "football", "space\twith tab"]


@pytest.fixture
def split_corpus():
    return prepare_corpus(TEXTS, LABELS, vocabulary_size=12, test_size=0.25, val_size=0.25, seed=3)


def test_partitions_are_ordered_and_aligned(split_corpus):
    c = split_corpus
    assert c.partitions == sorted(c.partitions, key=["train", "val", "test"].index)
    assert Counter(c.partitions) == {"train": 4, "val": 2, "test": 2}
    assert sorted(c.order.tolist()) == list(range(len(TEXTS)))
    for i, j in enumerate(c.order):
        assert c.raw_texts[i] == TEXTS[j]
        assert c.labels[i] == LABELS[j]
        assert c.tokens[i] == [w for w in tokenize(TEXTS[j]) if w in set(c.vocabulary)]
    # seeded: same split again, different seed gives another split
    again = prepare_corpus(TEXTS, LABELS, vocabulary_size=12, test_size=0.25, val_size=0.25, seed=3)
    assert np.array_equal(again.order, c.order)


def test_empty_documents_are_kept_and_aligned(split_corpus):
    c = split_corpus
    row = int(np.flatnonzero(c.order == 2)[0])
    assert c.tokens[row] == []
    assert c.raw_texts[row] == TEXTS[2]
    assert c.labels[row] == "other\nline"
    assert c.n_empty == 1
    assert len(c) == len(TEXTS)


def test_write_octis_folder(split_corpus, tmp_path):
    c = split_corpus
    folder = write_octis_folder(c, tmp_path / "ds")
    assert {p.name for p in folder.iterdir()} == {"corpus.tsv", "vocabulary.txt", "metadata.json", RAW_DOCUMENTS_FILE}
    lines = (folder / "corpus.tsv").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(TEXTS) + 1
    for i, line in enumerate(lines[:-1]):
        cols = line.split("\t")
        assert cols[0] == " ".join(c.tokens[i])
        assert cols[1] == c.partitions[i]
        assert cols[2] == c.labels[i].replace("\t", " ").replace("\n", " ")
    # the empty document is a row with an empty text column
    row = int(np.flatnonzero(c.order == 2)[0])
    assert lines[row].startswith("\t" + c.partitions[row])
    assert (folder / "vocabulary.txt").read_text(encoding="utf-8").split() == c.vocabulary
    assert read_raw_documents(folder) == c.raw_texts
    raw_lines = (folder / RAW_DOCUMENTS_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["text"] for x in raw_lines] == c.raw_texts
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["total_documents"] == len(TEXTS)
    assert meta["vocabulary_length"] == len(c.vocabulary)
    assert meta["last-training-doc"] == 4
    assert meta["last-validation-doc"] == 6
    assert meta["empty-documents-kept"] == 1
    # the label list in metadata.json names the labels as written in corpus.tsv
    assert meta["labels"] == sorted({line.split("\t")[2] for line in lines[:-1]})


def test_load_dataset_round_trip(split_corpus, tmp_path):
    from dsl_plugin import load_dataset

    c = split_corpus
    folder = write_octis_folder(c, tmp_path / "ds")
    ds = load_dataset(folder)
    assert ds.get_corpus() == c.tokens
    assert ds.get_vocabulary() == c.vocabulary
    assert ds.get_raw_corpus() == c.raw_texts
    assert ds.get_labels() == [lab.replace("\t", " ").replace("\n", " ") for lab in c.labels]
    meta = ds.get_metadata()
    assert meta["last-training-doc"] == 4 and meta["last-validation-doc"] == 6
    train, val, test = ds.get_partitioned_corpus(use_validation=True)
    assert train == c.tokens[:4] and val == c.tokens[4:6] and test == c.tokens[6:]


def test_load_dataset_with_misaligned_raw_documents(split_corpus, tmp_path):
    from dsl_plugin import load_dataset

    folder = write_octis_folder(split_corpus, tmp_path / "ds")
    raw = folder / RAW_DOCUMENTS_FILE
    raw.write_text("".join(raw.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    with pytest.raises(ValueError, match="raw_documents.jsonl has 7 rows but corpus.tsv has 8"):
        load_dataset(folder)


def test_octis_loads_folder_without_empty_documents(prepared, dataset_folder):
    from octis.dataset.dataset import Dataset

    assert prepared.n_empty == 0, "the session corpus is meant to have no empty document"
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(dataset_folder))
    assert ds.get_corpus() == prepared.tokens
    assert ds.get_vocabulary() == prepared.vocabulary
    assert ds.get_labels() == prepared.labels
    assert ds.get_metadata()["last-training-doc"] == len(prepared)


def test_cli_prepare_demo(tmp_path, capsys):
    from dsl_plugin import load_dataset
    from dsl_plugin.cli import main

    out = tmp_path / "demo"
    main(["prepare", "demo", str(out), "--vocabulary-size", "100", "--test-size", "0.25"])
    assert "240 documents" in capsys.readouterr().out
    ds = load_dataset(out)
    assert len(ds.get_corpus()) == len(ds.get_raw_corpus()) == len(ds.get_labels()) == 240
    assert len(ds.get_vocabulary()) == 100
    assert ds.get_metadata()["last-training-doc"] == 180
    main(["prepare", "demo", str(tmp_path / "w"), "--vocabulary-size", "100", "--tokenizer", "as_written"])
    written = load_dataset(tmp_path / "w")
    assert "sentence-initial words dropped" in written.get_metadata()["preprocessing-info"]
    assert written.get_raw_corpus() != [] and written.get_vocabulary() != ds.get_vocabulary()


# --------------------------------------------------------------------------- named data sets

def test_load_texts_dispatch_and_unknown():
    texts, labels = data.load_texts("demo")
    assert len(texts) == len(labels) == 240 and len(set(labels)) == 6
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        data.load_texts("nope")


def test_load_texts_stratified_sample():
    texts, labels = data.load_texts("demo")
    s_texts, s_labels = data.load_texts("demo", sample=60, sample_seed=3)
    assert len(s_texts) == len(s_labels) == 60
    assert Counter(s_labels) == {lab: 10 for lab in set(labels)}  # 6 balanced labels of 40 -> 10 each
    pairs = set(zip(texts, labels))
    assert all(p in pairs for p in zip(s_texts, s_labels))  # texts keep their own labels
    assert data.load_texts("demo", sample=60, sample_seed=3) == (s_texts, s_labels)  # fixed
    assert data.load_texts("demo", sample=60, sample_seed=4) != (s_texts, s_labels)
    with pytest.raises(ValueError, match="sample must be a positive"):
        data.load_texts("demo", sample=0)


def test_cli_fit_passes_temperature_and_calibration(tmp_path, monkeypatch, capsys):
    import dsl_plugin.model as model_mod
    from dsl_plugin.cli import main

    seen = {}

    class Recorder:
        def __init__(self, **kw):
            seen.update(kw)

        def train_model(self, dataset, top_words=10):
            return {"topics": [["a", "b"]]}

        def describe(self):
            return "what it read"

    out = tmp_path / "demo"
    main(["prepare", "demo", str(out), "--vocabulary-size", "50"])
    monkeypatch.setattr(model_mod, "DSL", Recorder)
    main(["fit", str(out), "--num-topics", "3", "--temperature", "2", "--calibration", "corpus",
          "--word-scoring", "full_word", "--diversity-weight", "0"])
    assert seen["temperature"] == 2.0 and seen["calibration"] == "corpus" and seen["num_topics"] == 3
    assert seen["word_scoring"] == "full_word" and seen["diversity_weight"] == 0.0
    seen.clear()
    main(["fit", str(out)])
    # options not given are left to DSL's own defaults (one source of truth)
    assert not ({"temperature", "calibration", "word_scoring", "language_model", "preset", "diversity_weight",
                 "num_epochs"} & set(seen))
    assert "DSL: what it read\ntopic  0: a b" in capsys.readouterr().out
    seen.clear()
    main(["fit", str(out), "--preset", "paper", "--temperature", "2"])
    assert seen["preset"] == "paper" and seen["temperature"] == 2.0
