"""OCTIS baselines: LDA, ProdLDA, CombinedTM / ZeroshotTM (OCTIS CTM) and ETM."""

from __future__ import annotations

import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from ..cache import hash_documents
from ..data import bag_of_words
from ..embeddings import corpus_word2vec
from ..seeding import seed_everything
from ._base import (EMBEDDING_MODEL_NAME, PAPER_HIDDEN, check_overrides, corpus_vocab, finish, log_path,
                    minilm_embeddings, minilm_path, quiet, raw_texts, require)

_LDA_ARGS = {"distributed", "chunksize", "passes", "update_every", "alpha", "eta", "decay", "offset",
             "eval_every", "iterations", "gamma_threshold"}


def _train_octis(model, dataset, name: str, work_dir: str, num_topics: int, seed: int, top_words: int):
    """``train_model`` of an OCTIS model on all documents, quietly (log in work_dir/logs); (output, seconds)."""
    model.partitioning(False)
    t0 = time.perf_counter()
    with quiet(log_path(work_dir, name, num_topics, seed)):
        out = model.train_model(dataset, top_words=top_words)
    return out, time.perf_counter() - t0


def run_lda(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS LDA (gensim LdaModel, online VB) with OCTIS defaults: chunksize 2000, 1 pass, decay 0.5,
    offset 1.0, gamma_threshold 0.001, iterations 50, symmetric alpha; ``random_state=seed``."""
    LDA = require("octis.models.LDA", "LDA").LDA

    check_overrides("LDA", overrides, _LDA_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    seed_everything(seed)
    model = LDA(num_topics=num_topics, random_state=seed, **overrides)
    out, fit_s = _train_octis(model, dataset, "LDA", work_dir, num_topics, seed, top_words)
    # gensim's dictionary orders words by first occurrence: put the columns in vocabulary order
    gensim_twm = np.asarray(out["topic-word-matrix"])
    twm = np.zeros((gensim_twm.shape[0], len(vocab)))
    index = {w: i for i, w in enumerate(vocab)}
    for gid, word in model.id2word.items():
        if word in index:
            twm[:, index[word]] = gensim_twm[:, gid]
    out["topic-word-matrix"] = twm
    notes = ["OCTIS LDA (gensim) with OCTIS default settings (= appendix C), trained on all documents.",
             "Documents with no vocabulary word get gensim's prior (uniform) topic distribution."]
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": 0.0, "fit_s": fit_s}, overrides)


_AVITM_ARGS = {"activation", "dropout", "learn_priors", "batch_size", "lr", "momentum", "solver", "num_epochs",
               "reduce_on_plateau", "prior_mean", "prior_variance", "num_layers", "num_neurons", "num_samples"}


def run_prodlda(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS ProdLDA: OCTIS defaults (100 epochs, batch 64, Adam lr 2e-3, dropout 0.2, softplus,
    learned priors, 10 inference samples) with the paper's 2 x 200 encoder (OCTIS default: 2 x 100)."""
    ProdLDA = require("octis.models.ProdLDA", "ProdLDA").ProdLDA

    check_overrides("ProdLDA", overrides, _AVITM_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    params = {"num_neurons": PAPER_HIDDEN, **overrides}
    seed_everything(seed)
    model = ProdLDA(num_topics=num_topics, use_partitions=False, **params)
    out, fit_s = _train_octis(model, dataset, "ProdLDA", work_dir, num_topics, seed, top_words)
    notes = [f"OCTIS ProdLDA, OCTIS defaults except num_neurons={params['num_neurons']} (paper appendix C/D: "
             "2 hidden layers of 200; OCTIS default 100), trained on all documents (no validation split, so no "
             "early stopping, as in OCTIS without partitions).",
             "topic-word-matrix is OCTIS's unnormalised beta (decoder weights); topics are its top words.",
             "Documents with no vocabulary word are encoded from an all-zero BoW."]
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": 0.0, "fit_s": fit_s}, overrides)


def _run_ctm(name: str, inference_type: str, dataset, num_topics: int, seed: int, work_dir: str,
             top_words: int = 15, **overrides) -> dict:
    CTM = require("octis.models.CTM", name).CTM

    check_overrides(name, overrides, _AVITM_ARGS | {"embed_text"})
    corpus, vocab = corpus_vocab(dataset)
    embed_text = overrides.pop("embed_text", "raw")
    if embed_text == "raw":
        texts = raw_texts(dataset, len(corpus))
    elif embed_text == "tokens":  # what OCTIS's CTM would embed by itself
        texts = [" ".join(d) for d in corpus]
    else:
        raise ValueError(f"embed_text must be 'raw' or 'tokens', got {embed_text!r}")
    emb, embed_s = minilm_embeddings(texts, work_dir)
    params = {"num_neurons": PAPER_HIDDEN, **overrides}
    # OCTIS's CTM unpickles <bert_path>_train.pkl if it exists (and only encodes the preprocessed text itself
    # when it does not). A pickle kept in the work folder could be replaced by one that runs code: write ours
    # fresh, for this run only, in a private temporary folder (mode 0700, unpredictable name).
    with tempfile.TemporaryDirectory(prefix="dsl-ctm-embeddings-") as private:
        bert_path = Path(private) / f"minilm-{embed_text}"
        with open(str(bert_path) + "_train.pkl", "wb") as f:
            pickle.dump(emb, f)
        seed_everything(seed)
        model = CTM(num_topics=num_topics, inference_type=inference_type, seed=seed, use_partitions=False,
                    bert_path=str(bert_path), bert_model=minilm_path(), **params)
        out, fit_s = _train_octis(model, dataset, name, work_dir, num_topics, seed, top_words)
    what = "raw document text" if embed_text == "raw" else "preprocessed tokens joined by spaces (OCTIS's default)"
    notes = [f"OCTIS CTM inference_type='{inference_type}', OCTIS defaults except num_neurons={params['num_neurons']} "
             "(paper: 2 x 200; OCTIS default 100), trained on all documents (no early stopping without a "
             "validation split).",
             f"Contextual embeddings: {EMBEDDING_MODEL_NAME}, 384-d, of the {what}, truncated at 256 word pieces, "
             "precomputed and handed to OCTIS's CTM in a fresh per-run pickle (paper: GTE-large-en-v1.5, 1024-d, "
             "not available offline).",
             "topic-word-matrix is OCTIS's unnormalised beta."]
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s}, overrides)


def run_combinedtm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """CombinedTM: OCTIS CTM(inference_type='combined'), MiniLM embeddings of the raw text + BoW as input."""
    return _run_ctm("CombinedTM", "combined", dataset, num_topics, seed, work_dir, top_words, **overrides)


def run_zeroshottm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """ZeroshotTM: OCTIS CTM(inference_type='zeroshot'), MiniLM embeddings of the raw text as input."""
    return _run_ctm("ZeroshotTM", "zeroshot", dataset, num_topics, seed, work_dir, top_words, **overrides)


_ETM_ARGS = {"num_epochs", "t_hidden_size", "activation", "dropout", "lr", "optimizer", "batch_size", "clip",
             "wdecay", "bow_norm", "word_embeddings", "w2v_epochs"}


def run_etm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS ETM with OCTIS defaults (100 epochs, batch 128, Adam lr 5e-3, wdecay 1.2e-6, encoder 2 x 800 ReLU,
    dropout 0.5, normalised BoW) and fixed 300-d word2vec embeddings trained on the corpus.

    Extra overrides: ``word_embeddings`` = ``"word2vec-corpus"`` (default; fixed, not fine-tuned, like the
    paper's pre-trained vectors) or ``"learned"`` (OCTIS default ``train_embeddings=True``: rho learned
    jointly); ``w2v_epochs`` (default 50).
    """
    import torch
    ETM = require("octis.models.ETM", "ETM").ETM
    from octis.dataset.dataset import Dataset

    check_overrides("ETM", overrides, _ETM_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    mode = overrides.pop("word_embeddings", "word2vec-corpus")
    w2v_epochs = int(overrides.pop("w2v_epochs", 50))
    seed_everything(seed)
    embed_s = 0.0
    if mode == "word2vec-corpus":
        # like pre-trained vectors, the same for every run seed: trained once per corpus (seed 0), cached
        kv_path, embed_s = corpus_word2vec(corpus, work_dir, seed=0, epochs=w2v_epochs)
        emb_args = {"train_embeddings": False, "embeddings_path": kv_path, "embeddings_type": "word2vec",
                    "binary_embeddings": True}
    elif mode == "learned":
        emb_args = {"train_embeddings": True}
    else:
        raise ValueError(f"word_embeddings must be 'word2vec-corpus' or 'learned', got {mode!r}")
    # OCTIS ETM divides each BoW by its length: an empty document gives NaN and poisons the whole model.
    # Train on the non-empty documents, then infer theta for every document ourselves.
    keep = [i for i, d in enumerate(corpus) if d]
    if not keep:
        raise ValueError("every document is empty: ETM cannot be trained")
    train_ds = Dataset(corpus=[corpus[i] for i in keep], vocabulary=vocab)
    seed_everything(seed)
    model = ETM(num_topics=num_topics, use_partitions=False, device="cpu", **emb_args, **overrides)
    model.partitioning(False)
    t0 = time.perf_counter()
    ckpt = Path(work_dir) / "logs" / f"ETM-K{num_topics}-seed{seed}-checkpoint.pt"
    with quiet(log_path(work_dir, "ETM", num_topics, seed)):
        out = model.train_model(train_ds, top_words=top_words, op_path=str(ckpt))
        bow = torch.as_tensor(bag_of_words(corpus, vocab).toarray(), dtype=torch.float32)
        if model.hyperparameters["bow_norm"]:
            bow = bow / bow.sum(1, keepdim=True).clamp_min(1.0)
        model.model.eval()
        with torch.no_grad():
            theta = torch.cat([model.model.get_theta(b)[0] for b in torch.split(bow, 1024)]).numpy()
    fit_s = time.perf_counter() - t0
    if out.get("topics") is None or not np.isfinite(np.asarray(out["topic-word-matrix"])).all():
        raise RuntimeError("ETM diverged (NaN topic-word matrix)")
    out["topic-document-matrix"] = theta.T
    n_empty = len(corpus) - len(keep)
    notes = ["OCTIS ETM with OCTIS default settings (= appendix C), trained on all non-empty documents "
             "(no validation split, so no early stopping: the full 100 epochs run)."]
    if mode == "word2vec-corpus":
        notes.append(f"Word embeddings: 300-d skip-gram word2vec trained on this corpus with gensim ({w2v_epochs} "
                     "epochs, window 4, negative 10, word2vec seed 0 whatever the run seed, cached per corpus), "
                     "fixed during training (train_embeddings=False); the paper's word2vec-google-news-300 cannot be "
                     "downloaded here.")
    else:
        notes.append("Word embeddings learned jointly (OCTIS train_embeddings=True), no pre-trained vectors.")
    notes.append(f"{n_empty} document(s) with no vocabulary word were left out of training (OCTIS ETM turns them "
                 "into NaN); their theta is the encoder's output for an all-zero BoW. theta = softmax of the "
                 "posterior mean (eval mode) for every document.")
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s}, overrides)
