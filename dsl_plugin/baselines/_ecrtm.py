"""ECRTM baseline (Wu et al. 2023, embedding clustering regularisation) on the dataset's BoW, with offline word
embeddings: the network of DSL's ECRTM backbone (:mod:`dsl_plugin.student._ecrtm`) trained with ECRTM's own
objective (BoW in, BoW negative log-likelihood out)."""

from __future__ import annotations

import time

import numpy as np

from ..data import bag_of_words
from ..embeddings import corpus_word2vec, word2vec_matrix
from ..seeding import seed_everything
from ._base import PAPER_HIDDEN, check_overrides, corpus_vocab, finish

_ECRTM_ARGS = {"epochs", "learning_rate", "batch_size", "dropout", "w2v_epochs"}


def run_ecrtm(dataset, num_topics: int, seed: int, work_dir: str, top_words: int = 15, **overrides) -> dict:
    """ECRTM with the authors' / TopMost defaults (200 epochs, batch 64, Adam lr 0.002, 2 x 200 softplus encoder,
    dropout 0, beta temperature 0.2, ECR weight 100, Sinkhorn alpha 20 and at most 1000 iterations) and word
    embeddings initialised from 300-d skip-gram word2vec trained on the corpus (cached per corpus, shared with the
    ETM baseline), then learned with the topic embeddings as in ECRTM."""
    import torch

    from ..student import ECRTMNetwork, TrainConfig, infer_theta, train_network

    check_overrides("ECRTM", overrides, _ECRTM_ARGS)
    corpus, vocab = corpus_vocab(dataset)
    p = {"epochs": 200, "learning_rate": 0.002, "batch_size": 64, "dropout": 0.0, "w2v_epochs": 50, **overrides}
    # like pre-trained vectors, the same for every run seed: trained once per corpus (seed 0), cached
    path, embed_s = corpus_word2vec(corpus, work_dir, seed=0, epochs=int(p["w2v_epochs"]))
    vectors, missing = word2vec_matrix(path, vocab)
    bow = torch.as_tensor(bag_of_words(corpus, vocab).toarray(), dtype=torch.float32)
    if len(corpus) < 2:
        raise ValueError("ECRTM needs at least 2 documents (BatchNorm)")
    seed_everything(seed)
    t0 = time.perf_counter()
    net = ECRTMNetwork(len(vocab), vectors, num_topics, (PAPER_HIDDEN, PAPER_HIDDEN), "softplus", float(p["dropout"]))
    # ECRTM's objective: NLL of the raw counts (weight 1) + KL to the Dirichlet(1) Laplace prior + ECR; plain Adam
    cfg = TrainConfig(batch_size=int(p["batch_size"]), num_epochs=int(p["epochs"]), lr=float(p["learning_rate"]),
                      betas=(0.9, 0.999), lr_scheduler=None, weight=1.0, loss="nll", show_progress=False)
    generator = torch.Generator().manual_seed(seed)
    train_network(net, bow, bow, cfg, generator)
    theta = infer_theta(net, bow, 1, generator, estimate="mean")  # ECRTM's eval theta: softmax of the mean
    beta = net.beta.detach().numpy()
    fit_s = time.perf_counter() - t0
    if not np.isfinite(beta).all():
        raise RuntimeError("ECRTM diverged (NaN topic-word matrix)")
    notes = ["ECRTM (Wu et al. 2023), reimplemented in dsl_plugin.student._ecrtm (the network DSL's ECRTM backbone "
             "trains) with the authors' / TopMost defaults = appendix C: BoW input, 2 x 200 softplus encoder, dropout "
             f"{p['dropout']}, beta temperature 0.2, ECR weight 100, Sinkhorn alpha 20 (at most 1000 iterations, "
             f"stabilised scaling iterations), {p['epochs']} epochs, batch {p['batch_size']}, Adam lr "
             f"{p['learning_rate']}, trained on all documents.",
             f"Word embeddings: 300-d skip-gram word2vec trained on this corpus with gensim ({p['w2v_epochs']} epochs, "
             "window 4, negative 10, word2vec seed 0 whatever the run seed, cached per corpus, the ETM baseline's), "
             "normalised and fine-tuned as in ECRTM; the paper's glove-wiki-gigaword-200 (200-d GloVe) cannot be "
             f"downloaded here ({missing} vocabulary word(s) absent from the corpus got random vectors).",
             "topic-word-matrix = ECRTM's beta (softmax over topics of -distance / 0.2); theta = softmax of the "
             "posterior mean (ECRTM's eval mode) for every document."]
    out = {"topic-word-matrix": beta, "topic-document-matrix": theta.T}
    return finish(out, vocab, len(corpus), top_words, notes, {"embed_s": embed_s, "fit_s": fit_s}, overrides)
