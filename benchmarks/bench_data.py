"""Benchmark data sets: one fixed definition shared by prepare, run and perf scripts."""

from __future__ import annotations

import dataclasses
import os
import platform
from pathlib import Path

from dsl_plugin.data import PreparedCorpus, load_texts, prepare_corpus, write_octis_folder

WORK = Path(__file__).resolve().parent / "work"  # generated OCTIS folders (git-ignored)

# name -> (loader name, load_texts kwargs, description shown in result tables).
# The default protocol (run.DEFAULT_DATASETS) uses a fixed stratified sample of 4,000 documents of each data set
# so that 14 models x K {25, 50} x 3 seeds finish in a few hours on 2 cores; the full-size sets are opt-in.
DATASETS = {
    "20newsgroups": ("20newsgroups", {"sample": 4000, "sample_seed": 0},
                     "20 Newsgroups `text` field, fixed stratified sample of 4,000 non-empty docs (seed 0)"),
    "stackoverflow-4k": ("stackoverflow", {"sample": 4000, "sample_seed": 0},
                         "StackOverflow titles, fixed stratified sample of 4,000 of the 20,000 (seed 0)"),
    "tweet_topic-4k": ("tweet_topic", {"sample": 4000, "sample_seed": 0},
                       "TweetTopic single-label rows (the authors' file, duplicates kept), fixed stratified sample "
                       "of 4,000 of the 21,996 rows (seed 0)"),
    # small sample for teacher-side experiments that are too slow at 4,000 (e.g. full-word scoring)
    "stackoverflow-1k": ("stackoverflow", {"sample": 1000, "sample_seed": 0},
                         "StackOverflow titles, fixed stratified sample of 1,000 of the 20,000 (seed 0)"),
    "20newsgroups-full": ("20newsgroups", {}, "20 Newsgroups `text` field, all 18,331 non-empty docs"),
    "stackoverflow": ("stackoverflow", {}, "StackOverflow titles, all 20,000"),
    "tweet_topic": ("tweet_topic", {}, "TweetTopic single-label, all 21,996 rows (5,790 unique texts)"),
    "demo": ("demo", {}, "packaged demo corpus (240 docs, 6 labels)"),
    # OCTIS's own preprocessed folder, used as it is (token lists only, no raw text: the LM reads the joined
    # tokens, the "drop-in OCTIS benchmark" case). The quality study's confirmation set: never used for choosing.
    "bbc_news": ("octis:octis_BBC_News", {}, "OCTIS preprocessed BBC News (2,225 docs, 5 labels, |V| 2,949; "
                 "token lists only: DSL's LM reads the joined tokens)"),
}
# The paper authors' word filter (dsl_plugin.data.tokenize_as_written: only words written in lower case, none that
# starts a sentence) over the same documents as each default sample: another vocabulary and BoW. Used by
# compare_tokenizers.py to test why the paper's short-text baselines are so much weaker than ours.
for _base in ("20newsgroups", "stackoverflow-4k", "tweet_topic-4k"):
    _loader, _kwargs, _desc = DATASETS[_base]
    DATASETS[f"{_base}-aswritten"] = (_loader, {**_kwargs, "tokenizer": "as_written"},
                                      f"{_desc}; vocabulary/BoW with the paper authors' word filter "
                                      "(lower-case-as-written words, no sentence-initial word)")
# The same samples as OCTIS-style folders that hold token lists only (DSL's LM then reads the joined tokens, as in a
# drop-in OCTIS benchmark on a preprocessed data set): the quality study's token-list prompt lever.
for _base in ("stackoverflow-4k", "tweet_topic-4k"):
    _loader, _kwargs, _desc = DATASETS[_base]
    DATASETS[f"{_base}-tokens"] = (_loader, {**_kwargs, "raw": "tokens"},
                                   f"{_desc}; token lists only (the LM reads the joined tokens)")
VOCABULARY_SIZE = 2000


def prepare(name: str) -> tuple[PreparedCorpus, Path]:
    """Build (deterministically) the corpus of a benchmark data set and its OCTIS folder."""
    loader, kwargs, _ = DATASETS[name]
    if loader.startswith("octis:"):
        return _octis_folder(loader.split(":", 1)[1])
    kwargs = dict(kwargs)
    tokenizer = kwargs.pop("tokenizer", "default")
    tokens_only = kwargs.pop("raw", None) == "tokens"
    texts, labels = load_texts(loader, **kwargs)
    corpus = prepare_corpus(texts, labels, vocabulary_size=VOCABULARY_SIZE, tokenizer=tokenizer)
    if tokens_only:
        corpus = dataclasses.replace(corpus, raw_texts=[" ".join(t) for t in corpus.tokens])
    folder = WORK / name
    if not (folder / "raw_documents.jsonl").exists():
        write_octis_folder(corpus, folder)
    return corpus, folder


def _octis_folder(folder_name: str) -> tuple[PreparedCorpus, Path]:
    """A shared OCTIS folder as it is: raw text = the joined tokens (what DSL reads from such a folder)."""
    import numpy as np

    from dsl_plugin.data import shared_data_dir
    from dsl_plugin.octis_io import load_dataset

    folder = shared_data_dir() / folder_name
    ds = load_dataset(folder)
    corpus = ds.get_corpus()
    n = len(corpus)
    corpus_obj = PreparedCorpus(raw_texts=ds.get_raw_corpus(), tokens=corpus, vocabulary=list(ds.get_vocabulary()),
                                labels=ds.get_labels(), partitions=["train"] * n, order=np.arange(n))
    return corpus_obj, folder


def machine_info() -> str:
    """CPU model, cores, RAM, Python and torch versions: recorded with every benchmark result."""
    import torch

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB RAM, "
            f"Python {platform.python_version()}, torch {torch.__version__} (CPU)")
