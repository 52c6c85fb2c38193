"""Issue 13: no silent misalignment, no destroyed model, a cache that heals itself, validated settings.

One section per item of the issue; docs/robustness.md lists every case with what it gets now. Nothing here
runs the language model: teacher outputs come from a stub (``fake_teacher``) or from hand-made arrays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dsl_plugin import DSL, load_dataset
from dsl_plugin.cache import CacheEntry
from dsl_plugin.data import prepare_corpus, read_raw_documents, tokenize, write_octis_folder
from dsl_plugin.teacher import TeacherOutputs

from conftest import FakeEmbedder

NO_LM = dict(input="embeddings", target="bow", embedding_model=FakeEmbedder(), num_epochs=2, verbose=False,
             device="cpu")  # DSL settings that never touch the LM

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]


def _docs(n: int = 12) -> tuple[list[str], list[str]]:
    """Documents whose first word names them, labels that name the document: misalignment is visible."""
    texts = [f"{WORDS[i % len(WORDS)]} music guitar songs" if i % 2 else f"{WORDS[i % len(WORDS)]} rocket orbit space"
             for i in range(n)]
    return texts, [w.split()[0].upper() for w in texts]


class StubTeacher:
    """Stands in for SoftLabelTeacher: deterministic outputs per document text, records what it was given."""

    hidden_size = 8

    def __init__(self):
        self.calls: list[list[str]] = []

    def compute(self, documents, vocabulary):
        self.calls.append(list(documents))
        rows_h, rows_l = [], []
        for d in documents:
            rng = np.random.default_rng(int(hashlib.sha256(d.encode()).hexdigest()[:8], 16))
            rows_h.append(rng.normal(size=self.hidden_size))
            rows_l.append(rng.normal(size=len(vocabulary)))
        return TeacherOutputs(logits=np.asarray(rows_l, np.float32), hidden=np.asarray(rows_h, np.float32))


@pytest.fixture
def fake_teacher(monkeypatch):
    from dsl_plugin.teacher import SoftLabelTeacher

    teacher = StubTeacher()
    monkeypatch.setattr(SoftLabelTeacher, "compute",
                        lambda self, documents, vocabulary, lazy=False: teacher.compute(documents, vocabulary))
    return teacher


def _load(path, **kw) -> DSL:
    """Load a model of ``_fit_no_lm`` (its student read FakeEmbedder's embeddings: a save says so, and a load
    without the encoder is refused)."""
    return DSL.load(path, embedding_model=FakeEmbedder(), **kw)


def _fit_no_lm(n: int = 12, **kw) -> tuple[DSL, list[str]]:
    texts, _ = _docs(n)
    return DSL(**{"num_topics": 2, **NO_LM, **kw}).fit(texts), texts


# --------------------------------------------------------------------------- 1. pandas input is positional


def test_item1_prepare_corpus_with_shuffled_pandas_series_is_positional():
    texts, labels = _docs(12)
    df = pd.DataFrame({"text": texts, "label": labels}).sample(frac=1.0, random_state=3)
    assert list(df.index) != list(range(12))
    c = prepare_corpus(df["text"], df["label"], vocabulary_size=50)
    assert c.raw_texts == df["text"].tolist() and c.labels == df["label"].tolist()
    for raw, toks, lab in zip(c.raw_texts, c.tokens, c.labels):
        assert toks == tokenize(raw) and raw.split()[0] == lab.lower()


def test_item1_fit_on_series_with_offset_index():
    texts, _ = _docs(12)
    ref = DSL(num_topics=2, **NO_LM).fit(texts)
    model = DSL(num_topics=2, **NO_LM).fit(pd.Series(texts, index=range(1000, 1012)))
    np.testing.assert_array_equal(model.document_topic_, ref.document_topic_)
    np.testing.assert_array_equal(model.transform(pd.Series(texts[:3], index=[7, 5, 6])), ref.transform(texts[:3]))


def test_item1_pandas_with_different_indexes_or_dataframe_is_rejected():
    texts, labels = _docs(6)
    with pytest.raises(ValueError, match="different index"):
        prepare_corpus(pd.Series(texts), pd.Series(labels, index=range(6)[::-1]))
    with pytest.raises(TypeError, match="DataFrame"):
        prepare_corpus(pd.DataFrame({"text": texts}))


# --------------------------------------------------------------------------- 2. atomic save


def test_item2_numpy_hidden_sizes_save_and_load(tmp_path):
    model, texts = _fit_no_lm(hidden_sizes=(np.int64(8), np.int32(4)))
    assert model.hidden_sizes == (8, 4) and all(type(h) is int for h in model.hidden_sizes)
    loaded = DSL.load(model.save(tmp_path / "m"), embedding_model=FakeEmbedder())
    assert loaded.hidden_sizes == (8, 4)
    np.testing.assert_array_equal(loaded.transform(texts), model.transform(texts))


def test_item2_failed_save_keeps_the_previous_model(tmp_path, monkeypatch):
    old, _ = _fit_no_lm(12)
    new, _ = _fit_no_lm(20, num_topics=3)
    path = old.save(tmp_path / "model")

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dumps", disk_full)
    with pytest.raises(OSError):
        new.save(path)
    monkeypatch.undo()
    loaded = _load(path)
    assert loaded.vocabulary_ == old.vocabulary_ and loaded.num_topics == 2
    np.testing.assert_array_equal(loaded.topic_word_matrix_, old.topic_word_matrix_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left behind
    new.save(path)  # a successful save replaces it
    assert _load(path).num_topics == 3


def test_item2_weights_of_another_model_are_detected(tmp_path):
    a, texts = _fit_no_lm(12)
    b = DSL(num_topics=2, **NO_LM).fit([t.replace("music", "piano") for t in texts])  # same shapes
    assert len(b.vocabulary_) == len(a.vocabulary_) and b.vocabulary_ != a.vocabulary_
    pa, pb = a.save(tmp_path / "a"), b.save(tmp_path / "b")
    shutil.copy(pb / "model.safetensors", pa / "model.safetensors")
    with pytest.raises(ValueError, match="do not belong together"):
        DSL.load(pa)


def test_item2_save_refuses_to_replace_a_folder_that_is_not_a_model(tmp_path):
    model, _ = _fit_no_lm()
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a saved DSL model"):
        model.save(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# --------------------------------------------------------------------------- 3. raw text of OCTIS folders


def test_item3_load_dataset_without_raw_documents_warns(tmp_path):
    texts, labels = _docs(12)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    (folder / "raw_documents.jsonl").unlink()
    with pytest.warns(UserWarning, match="has no raw_documents.jsonl"):
        ds = load_dataset(folder)
    with pytest.warns(UserWarning, match="falls back to the joined"):
        DSL(num_topics=2, **NO_LM).train_model(ds)


def test_item3_cli_fit_without_raw_documents_warns(tmp_path, fake_teacher):
    from dsl_plugin.cli import main

    texts, labels = _docs(12)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    (folder / "raw_documents.jsonl").unlink()
    with pytest.warns(UserWarning, match="raw_documents.jsonl"):
        main(["fit", str(folder), "--num-topics", "2", "--epochs", "1"])
    assert fake_teacher.calls[0][0] == " ".join(tokenize(texts[0]))  # the LM did read tokens, as warned


def _interleaved_folder(folder: Path, n: int = 12) -> tuple[list[str], list[str]]:
    texts, labels = _docs(n)
    parts = ["train" if i % 3 else "test" for i in range(n)]  # train and test rows interleaved
    folder.mkdir(parents=True)
    vocab = sorted({w for t in texts for w in tokenize(t)})
    (folder / "corpus.tsv").write_text("".join(f"{' '.join(tokenize(t))}\t{p}\t{lab}\n"
                                               for t, p, lab in zip(texts, parts, labels)))
    (folder / "vocabulary.txt").write_text("\n".join(vocab) + "\n")
    (folder / "raw_documents.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    return texts, parts


def test_item3_octis_loader_with_interleaved_partitions_keeps_raw_text_aligned(tmp_path, fake_teacher):
    from octis.dataset.dataset import Dataset

    _interleaved_folder(tmp_path / "ds")
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(tmp_path / "ds"))
    DSL(num_topics=2, verbose=False, device="cpu", num_epochs=1).train_model(ds)
    (seen,) = fake_teacher.calls
    assert [tokenize(t) for t in seen] == ds.get_corpus()  # row i of the raw text is row i of the corpus


def test_item3_raw_documents_that_do_not_match_the_corpus_are_an_error(tmp_path, fake_teacher):
    from octis.dataset.dataset import Dataset

    texts, _ = _interleaved_folder(tmp_path / "ds")
    (tmp_path / "ds" / "raw_documents.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[::-1]))
    ds = Dataset()
    ds.load_custom_dataset_from_folder(str(tmp_path / "ds"))
    with pytest.raises(ValueError, match="not aligned"):
        DSL(num_topics=2, verbose=False, device="cpu", num_epochs=1).train_model(ds)
    assert fake_teacher.calls == []


def test_item3_partly_shifted_raw_documents_are_an_error(tmp_path):
    texts, labels = _docs(20)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    shifted = texts[:14] + texts[15:] + ["an extra line at the end"]  # one row lost: the last 6 rows move up
    (folder / "raw_documents.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in shifted))
    with pytest.raises(ValueError, match=r"raw_documents.jsonl is not aligned with corpus.tsv: in 6 of 20 rows.*row 14"):
        load_dataset(folder)


# --------------------------------------------------------------------------- 4. cache entries heal themselves


def _entry(root, n=5, shard_size=2) -> tuple[CacheEntry, np.ndarray, np.ndarray]:
    entry = CacheEntry(root, "key", n_documents=n, shard_size=shard_size)
    logits = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    hidden = np.arange(n * 4, dtype=np.float32).reshape(n, 4) * 10
    for i in range(entry.n_shards):
        a, b = entry.shard_range(i)
        entry.write_shard(i, logits[a:b], hidden[a:b])
    return entry, logits, hidden


@pytest.mark.parametrize("damage", ["deleted", "not-json", "wrong-shard-size", "not-an-object"])
def test_item4_lost_or_corrupt_manifest_is_rebuilt_from_the_shard_records(tmp_path, caplog, damage):
    _, logits, hidden = _entry(tmp_path)
    manifest = tmp_path / "key" / "manifest.json"
    if damage == "deleted":
        manifest.unlink()
    elif damage == "not-json":
        manifest.write_text('{"key": "key", "n_docu')
    elif damage == "wrong-shard-size":
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "shard_size": 3}))
    else:
        manifest.write_text("[1, 2]")
    with caplog.at_level(logging.WARNING, logger="dsl_plugin.cache"):
        entry = CacheEntry(tmp_path, "key", n_documents=5, shard_size=4)  # the caller now asks for another size
    if damage != "deleted":
        assert str(manifest) in caplog.text
    assert entry.shard_size == 2 and entry.missing_shards() == []
    np.testing.assert_array_equal(entry.read("logits"), logits)
    np.testing.assert_array_equal(entry.read("hidden"), hidden)
    assert json.loads(manifest.read_text())["shard_size"] == 2  # repaired on disk for the next run


def test_item4_changed_shard_size_through_the_teacher_reuses_the_cache(teacher_run, prepared, make_teacher,
                                                                       teacher_cache_dir, tmp_path):
    _, out, _ = teacher_run
    shutil.copytree(teacher_cache_dir, tmp_path / "cache")
    for manifest in (tmp_path / "cache").glob("*/manifest.json"):
        manifest.unlink()
    for _ in range(2):  # the first run must not break the entry for the next one
        t = make_teacher(cache_dir=tmp_path / "cache", shard_size=16)
        res = t.compute(prepared.raw_texts, prepared.vocabulary)
        assert t.lm is None and res.n_computed == 0
        np.testing.assert_array_equal(res.logits, out.logits)


def test_item4_swapped_shards_are_detected(tmp_path, caplog):
    entry, logits, _ = _entry(tmp_path, n=4, shard_size=2)
    folder = tmp_path / "key"
    for suffix in (".logits.npy", ".hidden.npy", ".json"):
        a, b = folder / f"shard_00000{suffix}", folder / f"shard_00001{suffix}"
        a.rename(folder / "swap")
        b.rename(a)
        (folder / "swap").rename(b)
    with caplog.at_level(logging.WARNING, logger="dsl_plugin.cache"):
        assert entry.missing_shards() == [0, 1]
    assert "rows" in caplog.text


def test_item4_full_disk_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    entry = CacheEntry(tmp_path, "key", n_documents=2, shard_size=2)

    def no_space(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", no_space)
    with pytest.raises(OSError, match="shard_00000.logits.npy") as info:
        entry.write_shard(0, np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32))
    assert info.value.errno == 28
    assert [p.name for p in (tmp_path / "key").iterdir()] == ["manifest.json"]


# --------------------------------------------------------------------------- 5. settings are validated


BAD_SETTINGS = [
    ("num_epochs", -1, "integer >= 1"), ("num_epochs", 0, "integer >= 1"),
    ("temperature", math.inf, "finite"), ("temperature", math.nan, "finite"), ("temperature", 0, "> 0"),
    ("dropout", 1.0, r"\[0, 1\)"), ("dropout", -0.1, r"\[0, 1\)"),
    ("hidden_sizes", (0,), "integers >= 1"), ("hidden_sizes", 200, "sequence"),
    ("reconstruction_weight", -1, "> 0"), ("student_temperature", -2, "> 0"),
    ("batch_size", 0, "integer >= 2"), ("batch_size", -4, "integer >= 2"), ("batch_size", 1, "integer >= 2"),
    ("num_topics", 2.7, "integer >= 1"), ("num_topics", 0, "integer >= 1"), ("num_topics", True, "integer"),
    ("num_samples", 0, "integer >= 1"), ("lr", 0.0, "> 0"), ("lr", "fast", "number"),
    ("betas", (0.9,), "two numbers"), ("betas", (0.9, 1.0), r"\[0, 1\)"), ("seed", -1, "integer >= 0"),
    ("max_doc_tokens", 0, "integer >= 1"), ("prompt_template", "no slot", r"\{document\}"),
    ("activation", "tanh", "one of"), ("lr_scheduler", "linear", "one of"), ("verbose", "maybe", "boolean"),
    ("embedding_model", "minilm", "encode"), ("device", "gpu9", "device"),
    ("diversity_weight", -1, ">= 0"), ("diversity_weight", math.inf, "finite"),
    ("theta_temperature", 0, ">= 0.01"), ("theta_temperature", 1e-300, ">= 0.01"),
    ("target_neighbours", -1, "'auto' or an integer >= 0"), ("target_neighbours", 2.5, "'auto' or an integer >= 0"),
    ("neighbour_weight", -0.1, "finite number"), ("neighbour_weight", "half", "finite number"),
    ("neighbour_weight", 1.5, "'auto', None or a finite number in \\[0, 1\\]"),
]


@pytest.mark.parametrize("name,value,allowed", BAD_SETTINGS, ids=[f"{n}={v!r}" for n, v, _ in BAD_SETTINGS])
def test_item5_bad_setting_is_rejected_with_name_and_range(name, value, allowed):
    with pytest.raises(ValueError, match=f"{name} must be .*{allowed}") as info:
        DSL(**{name: value})
    assert repr(value) in str(info.value) or str(value) in str(info.value)
    model = DSL(**NO_LM)
    before = model.get_params()[name]
    with pytest.raises(ValueError, match=f"{name} must be"):
        model.set_params(**{name: value})
    assert model.get_params()[name] == before and model.hyperparameters[name] == before


def test_item5_vocabulary_size_is_validated():
    texts, _ = _docs(6)
    with pytest.raises(ValueError, match="vocabulary_size must be an integer >= 1, got 2.7"):
        DSL(**NO_LM).fit(texts, vocabulary_size=2.7)
    assert len(prepare_corpus(texts, vocabulary_size=np.int64(3)).vocabulary) == 3


def test_item5_values_from_optimizers_are_accepted_and_normalised():
    model = DSL(num_topics=np.int64(20), temperature=np.float64(2.5), hidden_sizes=[np.int64(50)],
                betas=[0.9, np.float32(0.99)], batch_size=32.0, student_temperature=np.float64(2.0),
                reconstruction_weight=np.int64(10), seed=np.int64(3), lr_scheduler=None, verbose="false")
    assert model.num_topics == 20 and type(model.num_topics) is int
    assert model.batch_size == 32 and type(model.batch_size) is int  # a whole float (skopt Real) is an integer
    assert model.hidden_sizes == (50,) and type(model.hidden_sizes[0]) is int
    assert model.betas == (0.9, pytest.approx(0.99)) and all(type(b) is float for b in model.betas)
    assert model.student_temperature == 2.0 and model.reconstruction_weight == 10.0 and model.verbose is False
    json.dumps(model.hyperparameters)  # plain Python types only
    assert DSL(student_temperature=False).student_temperature is False


def test_item5_rejected_before_any_teacher_pass(fake_teacher, tmp_path):
    texts, labels = _docs(12)
    ds = load_dataset(write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds"))
    model = DSL(num_topics=2, verbose=False, device="cpu", num_epochs=1)
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0.0"):
        model.train_model(ds, {"temperature": 0.0})
    with pytest.raises(ValueError, match="num_samples must be an integer >= 1, got 0"):
        model.train_model(ds, {"num_samples": 0})
    assert fake_teacher.calls == []


def test_item5_cli_rejects_bad_epochs_with_exit_code_2(tmp_path, fake_teacher, capsys):
    from dsl_plugin.cli import main

    texts, labels = _docs(12)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    with pytest.raises(SystemExit) as info:
        main(["fit", str(folder), "--epochs", "-1"])
    assert info.value.code == 2
    assert "num_epochs must be 'auto' or an integer >= 1, got -1" in capsys.readouterr().err
    assert fake_teacher.calls == []


# --------------------------------------------------------------------------- 6. transform and seeding


def test_item6_transform_of_a_single_string_or_none_is_rejected():
    model, _ = _fit_no_lm()
    with pytest.raises(TypeError, match="single str"):
        model.transform("one string")
    with pytest.raises(TypeError, match="document 0 is NoneType"):
        model.transform([None])
    with pytest.raises(TypeError, match="document 1 is int"):
        model.fit(["music and songs", 3])


def test_item6_teacher_outputs_with_the_wrong_number_of_rows_are_rejected(fake_teacher):
    texts, _ = _docs(12)
    model = DSL(num_topics=2, verbose=False, device="cpu", num_epochs=2).fit(texts, vocabulary_size=20)
    short = fake_teacher.compute(texts[:2], model.vocabulary_)
    with pytest.raises(ValueError, match="teacher_out has 2 rows but there are 4 documents"):
        model.transform(texts[:4], teacher_out=short)


def test_item6_document_topic_equals_transform_of_the_training_documents(fake_teacher):
    texts, _ = _docs(12)
    model = DSL(num_topics=3, verbose=False, device="cpu", num_epochs=3, seed=4).fit(texts, vocabulary_size=20)
    np.testing.assert_array_equal(model.document_topic_, model.transform(texts))
    again = DSL(num_topics=3, verbose=False, device="cpu", num_epochs=3, seed=4).fit(texts, vocabulary_size=20)
    np.testing.assert_array_equal(again.document_topic_, model.document_topic_)  # still reproducible


def test_item6_fit_does_not_reseed_the_global_random_generators():
    np.random.seed(123)
    torch.manual_seed(123)
    expected_np = np.random.get_state()[1].copy()
    expected_torch = torch.get_rng_state().clone()
    model, texts = _fit_no_lm(seed=0)
    model.transform(texts)
    assert np.array_equal(np.random.get_state()[1], expected_np)
    assert torch.equal(torch.get_rng_state(), expected_torch)


# --------------------------------------------------------------------------- 7. files, CLI, LLM rating


def test_item7_malformed_jsonl_names_file_and_line(tmp_path):
    raw = tmp_path / "raw_documents.jsonl"
    raw.write_text('{"text": "one"}\n{"text": "two"}\n{"text": "thr\n')
    with pytest.raises(ValueError, match=r"raw_documents.jsonl, line 3: not valid JSON"):
        read_raw_documents(tmp_path)
    raw.write_text('{"text": "one"}\n{"txt": "two"}\n')
    with pytest.raises(ValueError, match=r"raw_documents.jsonl, line 2: .*\"text\""):
        read_raw_documents(tmp_path)


def test_item7_bad_metadata_names_the_file(tmp_path):
    texts, labels = _docs(6)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    (folder / "metadata.json").write_text("{'not': json}")
    with pytest.raises(ValueError, match=r"metadata.json.*not valid JSON"):
        load_dataset(folder)


@pytest.mark.parametrize("row,problem", [("alpha music songs", "no TAB"), ("alpha music\tvalidation", "partition"),
                                         ("alpha\ttrain\tA\tB", "columns")])
def test_item7_corpus_tsv_with_bad_rows_is_rejected(tmp_path, row, problem):
    (tmp_path / "corpus.tsv").write_text(f"bravo rocket\ttrain\tB\n{row}\n")
    with pytest.raises(ValueError, match=f"corpus.tsv, line 2: .*{problem}"):
        load_dataset(tmp_path)


def test_item7_cli_save_to_unwritable_path_fails_before_fitting(tmp_path, fake_teacher, capsys):
    from dsl_plugin.cli import main

    texts, labels = _docs(12)
    folder = write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["fit", str(folder), "--epochs", "1", "--save", str(tmp_path / "a-file" / "model")])
    assert info.value.code == 2
    assert "a-file" in capsys.readouterr().err
    assert fake_teacher.calls == []  # nothing was fitted (and lost)


class _Resp:
    def __init__(self, payload=None, text=None):
        self._payload, self.text = payload, text

    def raise_for_status(self):
        pass

    def json(self):
        if self._payload is None:
            raise json.JSONDecodeError("Expecting value", self.text, 0)
        return self._payload


@pytest.mark.parametrize("resp,message", [
    (_Resp(text="<html>Bad gateway</html>"), "not JSON"),
    (_Resp({"choices": []}), "no choices"),
    (_Resp({"error": {"message": "quota"}}), "no choices"),
    (_Resp({"choices": [{"message": {"content": "3"},
                         "logprobs": {"content": [{"top_logprobs": [{"token": "3", "logprob": 1000.0}]}]}}]}),
     "log-probability"),
])
def test_item7_llm_rating_bad_endpoint_answers(monkeypatch, resp, message):
    from dsl_plugin.llm_rating import LLMRating

    monkeypatch.setattr("requests.post", lambda *a, **k: resp)
    with pytest.raises(ValueError, match=message):
        LLMRating(endpoint="http://127.0.0.1:9/v1").rate(["a", "b"])


def test_item7_llm_rating_large_negative_logprobs_are_stable(monkeypatch):
    from dsl_plugin.llm_rating import LLMRating

    tops = [{"token": "3", "logprob": -800.0}, {"token": "2", "logprob": -800.0 - math.log(3)}]
    payload = {"choices": [{"message": {"content": "3"}, "logprobs": {"content": [{"top_logprobs": tops}]}}]}
    monkeypatch.setattr("requests.post", lambda *a, **k: _Resp(payload))
    assert LLMRating(endpoint="http://127.0.0.1:9/v1").rate(["a"]) == pytest.approx((3 * 3 + 2) / 4)


# --------------------------------------------------------------------------- 8. saved models and baseline files


def test_item8_load_checks_vocabulary_and_format(tmp_path):
    model, _ = _fit_no_lm()
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "vocabulary": config["vocabulary"][::-1]}))
    with pytest.raises(ValueError, match="do not belong together"):
        DSL.load(path)
    (path / "config.json").write_text(json.dumps({**config, "format": 99}))
    with pytest.raises(ValueError, match="format 99"):
        DSL.load(path)
    (path / "config.json").write_text("{")
    with pytest.raises(ValueError, match="config.json"):
        DSL.load(path)


def test_item8_load_does_not_take_cache_dir_from_the_file(tmp_path):
    model, _ = _fit_no_lm(cache_dir=str(tmp_path / "someone-elses-cache"))
    path = model.save(tmp_path / "m")
    assert "cache_dir" not in json.loads((path / "config.json").read_text())["params"]
    assert _load(path).cache_dir is None
    assert _load(path, cache_dir=tmp_path / "mine").cache_dir == str(tmp_path / "mine")
    # a model saved by an older version (format 1) with a cache_dir: ignored as well
    config = json.loads((path / "config.json").read_text())
    config["params"]["cache_dir"] = str(tmp_path / "someone-elses-cache")
    config["format"] = 1
    (path / "config.json").write_text(json.dumps(config))
    assert _load(path).cache_dir is None


def test_a_save_made_before_a_parameter_existed_loads_with_the_value_it_trained_with(tmp_path):
    """diversity_weight came in 0.5 with default 1e4 (ProdLDA); a model saved by 0.4 (no such key) trained without the
    penalty, and loads saying so (a refit of it trains as it did)."""
    from dsl_plugin.model import PARAMS_ADDED_LATER

    model, _ = _fit_no_lm()
    assert model.diversity_weight is None and model.diversity_weight_ == 1e4  # the ProdLDA default, resolved
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    # the number is saved: a later change of the backbone's default does not change what this model says it is
    assert config["params"]["diversity_weight"] is None and config["resolved"]["diversity_weight"] == 1e4
    assert _load(path).resolved_["diversity_weight"] == 1e4
    for name in PARAMS_ADDED_LATER:  # as 0.4 saved it: no such parameter, nothing resolved
        del config["params"][name]
        config["resolved"].pop(name, None)
    del config["network"]  # saved since 0.9: before, the params built the network
    (path / "config.json").write_text(json.dumps(config))
    assert _load(path).diversity_weight == 0.0 and _load(path).diversity_weight_ == 0.0
    # bow_weight: 0.1's saves have none (they trained on the pure soft label)
    assert _load(path).bow_weight == 0.0 and _load(path).bow_weight_ == 0.0
    assert _load(path).theta_temperature == 1.0  # added in 0.8: every earlier save trained with 1
    assert _load(path).theta_temperature_ == 1.0 and _load(path).network_.theta_temperature == 1.0
    assert _load(path).target_neighbours == 0  # added in 0.9: every earlier save trained on its own targets
    assert _load(path).target_neighbours_ == 0 and _load(path, target_neighbours="auto").target_neighbours_ == 0
    # what it trained with comes from the file, not from a load override (which sets the params for a refit)
    overridden = _load(path, bow_weight=0.5, diversity_weight=1e3)
    assert (overridden.bow_weight, overridden.bow_weight_) == (0.5, 0.0)
    assert (overridden.diversity_weight, overridden.diversity_weight_) == (1e3, 0.0)
    # a resolved value is checked as a construction checks it, and must be resolved (no "auto", a diversity weight)
    for name, bad, says in [("diversity_weight", -1.0, "diversity_weight must be a finite number >= 0, got -1.0"),
                            ("diversity_weight", None, "not resolved: diversity_weight None"),
                            ("bow_weight", "auto", "not resolved: bow_weight 'auto'"),
                            ("input", "auto", "not resolved: input 'auto'"),
                            ("target_neighbours", 1.5, "target_neighbours must be .*, got 1.5"),
                            ("standardize_input", "maybe", "standardize_input must be 'auto', True or False"),
                            ("standardize_input", "auto", "not resolved: standardize_input 'auto'")]:
        (path / "config.json").write_text(json.dumps({**config, "resolved": {**config["resolved"], name: bad}}))
        with pytest.raises(ValueError, match=f"config.json does not say what the student.*{says}"):
            _load(path)
    # ... in the spellings a construction accepts, read as it reads them
    (path / "config.json").write_text(json.dumps(
        {**config, "resolved": {**config["resolved"], "standardize_input": 1, "max_doc_tokens": 64.0}}))
    assert (_load(path).standardize_input_, _load(path).max_doc_tokens_) == (True, 64)
    assert type(_load(path).max_doc_tokens_) is int
    # the resolved theta_temperature is the number the network was built with (True == 1 is not that)
    (path / "config.json").write_text(json.dumps({**config, "resolved": {**config["resolved"],
                                                                         "theta_temperature": True}}))
    with pytest.raises(ValueError, match="its theta_temperature the resolved one \\(True\\)"):
        _load(path)


def test_a_model_with_a_theta_temperature_round_trips_through_save_and_load(tmp_path):
    """theta_temperature shapes theta at inference too: a loaded model infers the theta it was saved with."""
    model, texts = _fit_no_lm(theta_temperature=2.0)
    loaded = _load(model.save(tmp_path / "m"))
    assert loaded.theta_temperature == 2.0
    np.testing.assert_allclose(loaded.transform(texts), model.transform(texts), atol=1e-6)
    np.testing.assert_allclose(loaded.transform(texts), model.document_topic_, atol=1e-6)
    plain = _load(model.save(tmp_path / "m1"), theta_temperature=1.0)  # an override sets the network
    assert not np.allclose(plain.transform(texts), model.document_topic_, atol=1e-3)
    # overrides enter the network as checked values: numpy scalars save and load again
    numpy_override = _load(tmp_path / "m1", theta_temperature=np.float32(1.5), dropout=np.float64(0.1))
    again = _load(numpy_override.save(tmp_path / "m2"))
    assert again.network_settings_["theta_temperature"] == 1.5 and again.network_settings_["dropout"] == 0.1
    assert type(again.network_settings_["dropout"]) is float


def test_neighbour_weight_is_saved_with_the_params(tmp_path):
    """neighbour_weight (training only) is a saved param: a load keeps it (for a refit)."""
    model, _ = _fit_no_lm(target_neighbours=2, neighbour_weight=0.25)
    assert _load(model.save(tmp_path / "m")).neighbour_weight == 0.25


def test_neighbour_weight_without_pooled_neighbours_says_it_has_no_effect(caplog):
    """A neighbour_weight on a fit that pools nothing (target_neighbours=0) is named in a warning."""
    import logging

    with caplog.at_level(logging.WARNING):
        model, _ = _fit_no_lm(target_neighbours=0, neighbour_weight=0.5)
    assert model.target_neighbours_ == 0
    assert any("neighbour_weight=0.5 has no effect" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _fit_no_lm(target_neighbours=2, neighbour_weight=0.5)
    assert not any("has no effect" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("change", [{"hidden_sizes": (7,)}, {"activation": "relu"}, {"dropout": 0.5},
                                    {"learn_priors": False}, {"theta_temperature": 3.0}, {"num_topics": 5}])
def test_a_network_setting_changed_after_the_fit_does_not_change_what_a_save_loads(tmp_path, change):
    """set_params after a fit changes the next fit (sklearn's rule); the save still loads the network it holds."""
    model, texts = _fit_no_lm()
    theta = model.transform(texts)
    model.set_params(**change)
    loaded = _load(model.save(tmp_path / "m"))
    assert {k: getattr(loaded, k) for k in change} == change  # the params as they are now, for the next fit
    np.testing.assert_allclose(loaded.transform(texts), theta, atol=1e-6)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["network"]["num_topics"] == 2 and config["network"]["hidden_sizes"] == [200, 200]
    config["network"]["dropout"] = 2.0
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="'network': dropout must be"):
        _load(tmp_path / "m")
    config["network"].update(dropout=0.2, num_topics=3)  # valid, but not the network the weights are
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not fit the network"):
        _load(tmp_path / "m")
    config["network"] = {}
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="'network' must give"):
        _load(tmp_path / "m")


def test_item8_saved_files_honour_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        model, _ = _fit_no_lm()
        path = model.save(tmp_path / "m")
        model.save(path)  # replacing keeps the modes too
        entry, _, _ = _entry(tmp_path / "cache")
        files = [path, *path.iterdir(), entry.path, *entry.path.iterdir()]
    finally:
        os.umask(previous)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert modes == {p.name: ("0o755" if p.is_dir() else "0o644") for p in files}


class _Planted:
    """A pickle that creates a folder when it is loaded (stands for arbitrary code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_item8_baselines_never_unpickle_a_planted_embedding_file(tmp_path, monkeypatch):
    import octis.models.CTM as octis_ctm

    from dsl_plugin import baselines
    from dsl_plugin.baselines import _octis

    texts, labels = _docs(12)
    ds = load_dataset(write_octis_folder(prepare_corpus(texts, labels, vocabulary_size=50), tmp_path / "ds"))
    emb = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    monkeypatch.setattr(_octis, "minilm_embeddings", lambda t, w: (emb, 0.0))
    work = tmp_path / "work"
    marker = tmp_path / "code-ran"
    # where v0.1 kept CTM's pickle: keyed by a sha1 of the texts (the hash is gone, the file may remain)
    h = hashlib.sha1(str(len(ds.get_raw_corpus())).encode())
    for t in ds.get_raw_corpus():
        h.update(b"\x1e" + t.encode("utf-8", "surrogatepass"))
    old_path = work / "embeddings" / f"ctm-minilm-raw-{h.hexdigest()[:16]}_train.pkl"
    old_path.parent.mkdir(parents=True)
    old_path.write_bytes(pickle.dumps(_Planted(str(marker))))
    seen = {}

    class FakeCTM:  # reads <bert_path>_train.pkl like OCTIS's CTM.load_bert_data
        def __init__(self, num_topics, bert_path, **kw):
            self.k, self.bert_path = num_topics, bert_path

        def partitioning(self, flag):
            pass

        def train_model(self, dataset, top_words=10):
            with open(self.bert_path + "_train.pkl", "rb") as f:
                seen["emb"] = pickle.load(f)
            n, v = len(dataset.get_corpus()), len(dataset.get_vocabulary())
            return {"topic-word-matrix": np.ones((self.k, v)), "topic-document-matrix": np.ones((self.k, n)) / self.k}

    monkeypatch.setattr(octis_ctm, "CTM", FakeCTM)
    baselines.run_baseline("ZeroshotTM", ds, 2, 0, str(work), top_words=3)
    assert not marker.exists()
    np.testing.assert_array_equal(seen["emb"], emb)
    assert sorted(work.rglob("*.pkl")) == [old_path]  # and no pickle of ours is left behind to be planted over


def test_item8_etm_word_vectors_are_not_a_pickle(tmp_path):
    from gensim.models import KeyedVectors

    from dsl_plugin import baselines

    corpus = [tokenize(t) for t in _docs(12)[0]]
    path, _ = baselines.corpus_word2vec(corpus, tmp_path, size=8, epochs=1)
    assert not Path(path).read_bytes().startswith(b"\x80")  # pickle protocol 2+ header
    kv = KeyedVectors.load_word2vec_format(path, binary=True)  # what OCTIS's ETM reads with embeddings_type="word2vec"
    assert set(kv.index_to_key) == {w for d in corpus for w in d}


def test_a_model_file_shipped_in_pieces_is_assembled_atomically_and_checked(tmp_path):
    """Two processes loading the packaged Gemma for the first time raced on one half-written file (the second failed
    with 'unexpected sha256'), and a cut-short assembly stayed broken for good: the file is now written under a
    temporary name, checked, then renamed; a wrong existing file is rebuilt."""
    from dsl_plugin.lm import ModelNotAvailableError, _concatenated

    parts = [tmp_path / f"part{i}" for i in range(3)]
    for i, p in enumerate(parts):
        p.write_bytes(bytes([i]) * 1000)
    whole = b"".join(p.read_bytes() for p in parts)
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "gguf" / "model.gguf"
    assert _concatenated(target, parts, sha).read_bytes() == whole
    target.write_bytes(whole[:1500])  # what a cut-short or racing writer used to leave
    assert _concatenated(target, parts, sha).read_bytes() == whole
    target.unlink()
    with pytest.raises(ModelNotAvailableError, match="sha256"):
        _concatenated(target, parts, "0" * 64)
    assert list(target.parent.iterdir()) == []  # nothing left under the name, nor a temporary file
