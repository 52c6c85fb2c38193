"""BERTopic baseline (MiniLM embeddings, or the DSL teacher as backend and representation)."""

from __future__ import annotations

import time

import numpy as np

from ..seeding import seed_everything
from ..teacher import TeacherConfig
from ._base import (EMBEDDING_MODEL_NAME, check_overrides, corpus_vocab, finish, load_minilm, log_path,
                    minilm_embeddings, quiet, raw_texts, require)

#: the teacher of BERTopic with ``backend="dsl"`` (the BERTopic-DSL baseline): its hidden states are the
#: embeddings, its soft labels the topic words; TeacherConfig's defaults (128 tokens) on the packaged Gemma
DSL_BACKEND_TEACHER = TeacherConfig(model="gemma3-270m")

_BERTOPIC_ARGS = {"n_neighbors", "n_components", "min_dist", "min_cluster_size", "nr_topics", "window", "stride",
                  "min_similarity", "backend"}


def _numba_off_torch_openmp() -> None:
    """Make numba (UMAP, HDBSCAN, pynndescent) use its own ``workqueue`` thread pool, unless a layer was chosen.

    numba's default picks the ``omp`` layer, which loads the libgomp that torch already uses; numba's idle
    OpenMP worker then spins in torch's barriers. Measured on a busy 2-core box: after one BERTopic fit, ProdLDA
    in the same process took 13.4 s of CPU instead of 2.2 s (0.6 s with ``workqueue``). Has no effect once numba
    has run a parallel region in this process.
    """
    import numba

    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "workqueue"


def run_bertopic(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """BERTopic: MiniLM embeddings of the raw text, UMAP(15, 5, 0.0, cosine, random_state=seed),
    HDBSCAN(min_cluster_size=10, euclidean), CountVectorizer on the dataset vocabulary, reduced to
    ``nr_topics=num_topics``; theta from ``approximate_distribution``; the outlier topic is dropped."""
    require("numba", "BERTopic")
    _numba_off_torch_openmp()
    BERTopic = require("bertopic", "BERTopic").BERTopic
    HDBSCAN = require("hdbscan", "BERTopic").HDBSCAN
    UMAP = require("umap", "BERTopic").UMAP
    from sklearn.feature_extraction.text import CountVectorizer

    check_overrides("BERTopic", overrides, _BERTOPIC_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    raw = raw_texts(dataset, len(corpus))
    p = {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "min_cluster_size": 10, "nr_topics": num_topics,
         "window": 4, "stride": 1, "min_similarity": 0.1, "backend": "minilm", **overrides}
    representation = None
    if p["backend"] == "dsl":  # DSL teacher: hidden states as embeddings, soft labels as topic words (cached)
        from ..bertopic import DSLBackend, DSLRepresentation

        t_emb = time.perf_counter()
        embedder = DSLBackend(teacher_config=DSL_BACKEND_TEACHER, vocabulary=vocab, num_threads=1)
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
    with quiet(log_path(work_dir, "BERTopic" if representation is None else "BERTopic-DSL", num_topics, seed)):
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
                f"DSLBackend embeddings ({DSL_BACKEND_TEACHER.model} last-token hidden states, centred, L2-normalised; "
                f"cached teacher pass, {DSL_BACKEND_TEACHER.max_doc_tokens} tokens, which DSL() shares on short "
                "corpora) and DSLRepresentation topic words (soft labels, lift weighting, single-token words)")
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
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s})
