"""FASTopic baseline (fastopic 1.0.1) on the dataset's own BoW and vocabulary."""

from __future__ import annotations

import functools
import sys
import time

import numpy as np

from ..data import bag_of_words
from ..seeding import seed_everything
from ._base import (EMBEDDING_MODEL_NAME, check_overrides, corpus_vocab, finish, load_minilm, log_path,
                    minilm_embeddings, quiet, raw_texts, require)

_FASTOPIC_ARGS = {"epochs", "learning_rate", "DT_alpha", "TW_alpha", "theta_temp", "normalize_embeddings"}


class _FixedBoW:
    """FASTopic ``preprocess`` object returning the dataset's own BoW and vocabulary (no TopMost needed)."""

    def __init__(self, bow, vocab: list[str]):
        self.bow, self.vocab = bow, vocab

    def preprocess(self, docs):
        if len(docs) != self.bow.shape[0]:
            raise ValueError(f"FASTopic got {len(docs)} documents, the BoW has {self.bow.shape[0]} rows")
        return {"train_bow": self.bow, "vocab": self.vocab}


def run_fastopic(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """FASTopic (fastopic 1.0.1): MiniLM embeddings of the raw text (precomputed), the dataset's BoW and
    vocabulary, defaults DT_alpha 3, TW_alpha 2, theta_temp 1, 200 epochs, lr 0.002, full batch."""
    FASTopic = require("fastopic", "FASTopic").FASTopic

    check_overrides("FASTopic", overrides, _FASTOPIC_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    raw = raw_texts(dataset, len(corpus))
    emb, embed_s = minilm_embeddings(raw, work_dir)
    p = {"epochs": 200, "learning_rate": 0.002, "DT_alpha": 3.0, "TW_alpha": 2.0, "theta_temp": 1.0,
         "normalize_embeddings": False, **overrides}
    seed_everything(seed)
    model = FASTopic(num_topics=num_topics, preprocess=_FixedBoW(bag_of_words(corpus, vocab), vocab),
                     num_top_words=top_words, device="cpu", normalize_embeddings=p["normalize_embeddings"],
                     doc_embed_model=load_minilm(), DT_alpha=p["DT_alpha"], TW_alpha=p["TW_alpha"],
                     theta_temp=p["theta_temp"], verbose=False)
    t0 = time.perf_counter()
    fmod = sys.modules[FASTopic.__module__]  # its training loop's tqdm bar: keep it off the harness's stderr
    orig_tqdm = fmod.tqdm
    fmod.tqdm = functools.partial(orig_tqdm, disable=True)
    try:
        with quiet(log_path(work_dir, "FASTopic", num_topics, seed)):
            _, theta = model.fit_transform(raw, epochs=int(p["epochs"]), learning_rate=float(p["learning_rate"]),
                                           preset_doc_embeddings=emb)
    finally:
        fmod.tqdm = orig_tqdm
    fit_s = time.perf_counter() - t0
    notes = [f"FASTopic (fastopic 1.0.1, the authors' package; paper used TopMost's copy) with "
             f"{EMBEDDING_MODEL_NAME} embeddings of the raw text (paper: GTE-large-en-v1.5), DT_alpha="
             f"{p['DT_alpha']}, TW_alpha={p['TW_alpha']}, {p['epochs']} epochs, lr {p['learning_rate']}, full-batch "
             "(FASTopic default).",
             "BoW and vocabulary are the dataset's (a fixed preprocess object replaces TopMost's preprocessing).",
             "topic-document-matrix = theta.T (FASTopic transform of the training embeddings); topic-word-matrix "
             "= beta (transport plan x K)."]
    out = {"topic-word-matrix": model.beta, "topic-document-matrix": np.asarray(theta).T}
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s}, overrides)
