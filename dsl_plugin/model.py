"""``DSL``: the soft-label distillation topic model as an OCTIS model with a scikit-learn style API."""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from . import seeding
from ._octis import AbstractModel  # OCTIS's base class, or a stand-in without OCTIS
from .cache import default_cache_dir, hash_documents
from ._auto import (BY_FORM, BY_LENGTH, DEFAULT_EPOCHS, ENCODER_MIN_WORD_SHARE, LONG_DOCUMENT_WORDS, auto_in, is_long,
                    is_long_corpus, is_token_list_corpus, mean_words, resolve)
# the rules' constants, importable from here as before they had a module of their own
from ._auto import (DEFAULT_NEIGHBOUR_WEIGHT, DEFAULT_NEIGHBOURS, LONG_DOCUMENT_TOKENS,  # noqa: F401
                    LONG_TOKEN_LIST_EPOCHS, LONG_TOKEN_LIST_NEIGHBOUR_SPACE, LONG_TOKEN_LIST_NEIGHBOURS,
                    LONG_TOKEN_LIST_THETA_TEMPERATURE,
                    TEXT_BOW_WEIGHT, TOKEN_LIST_BOW_WEIGHT, TOKEN_LIST_SAMPLE, TOKEN_LIST_SHARE)
from .data import (TokenizedTexts, _check_texts, _check_token_lists, as_documents, bag_of_words, build_vocabulary,
                   check_vocabulary)
from .fileio import atomic_write_folder, check_folder_target, read_json_object
from .student import (_ACTIVATIONS, BACKBONES, CALIBRATIONS, DEFAULT_WEIGHTS, NEIGHBOUR_SPACES, WORD_VECTOR_BACKBONES,
                      BatchSource, RowSource, TrainConfig, bow_features, bow_targets, build_backbone, column_mean,
                      column_std, corpus_logit_mean, infer_theta, neighbour_block, neighbour_index, neighbour_vectors,
                      pooled_rows, resolve_diversity_weight, row_chunks, soft_targets, train_network)
from .teacher import SoftLabelTeacher, TeacherConfig, TeacherOutputs, resolve_device
from .validation import (boolean, choice, either, exact_boolean, has_method, integer, optional, real,
                         sequence_of, text, torch_device, validate)

logger = logging.getLogger(__name__)

# Teacher settings of DSL: DSL parameter name -> TeacherConfig field. Their defaults come from TeacherConfig, and
# TeacherConfig validates them (one source of truth).
_TEACHER_PARAMS = {"language_model": "model", **{f: f for f in TeacherConfig.field_names() if f != "model"}}
_TEACHER_DEFAULTS = TeacherConfig.defaults()
#: separates the members of a teacher ensemble in ``language_model`` ("smollm2-135m+gemma3-270m")
ENSEMBLE_SEPARATOR = "+"
#: the content-free document of contextual calibration (Zhao et al. 2021)
CONTENT_FREE_DOCUMENT = "N/A"
INPUTS = ("auto", "lm", "embeddings", "lm+embeddings", "lm+bow")
#: the inputs that read the sentence embedding (``embedding_model``, by default the packaged MiniLM)
EMBEDDING_INPUTS = ("embeddings", "lm+embeddings")
#: what the student reads, in words (logged when ``input="auto"`` is resolved)
_INPUT_WORDS = {"lm+embeddings": "the LM state and the MiniLM embedding", "embeddings": "the MiniLM embedding alone"}
#: fitted input statistics saved next to the weights (safetensors keys ``dsl_input_stats.<name>``)
_INPUT_STAT_NAMES = ("input_mean_", "input_scale_", "bow_input_scale_")
#: where the word vectors of the ETM / ECRTM backbones come from
WORD_EMBEDDINGS = ("word2vec", "lm")
# Named sets of settings, applied over the package defaults by ``DSL(preset=...)``; arguments you pass win.
# "paper": the method exactly as published (arXiv 2602.17907; the authors' code): raw soft labels at tau 3, the
# mean of posterior samples as theta, the LM's last-token hidden state as input; on the language model you choose
# (default: the package's). DSL 0.1's default was this preset on "smollm2-135m".
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"temperature": 3.0, "calibration": None, "input": "lm", "standardize_input": "auto", "bow_weight": 0.0,
              "theta_estimate": "samples", "pooling": "last", "hidden_layer": -1, "prompt_format": "raw",
              "max_doc_tokens": _TEACHER_DEFAULTS["max_doc_tokens"], "diversity_weight": 0.0,
              "target_neighbours": 0, "neighbour_weight": None, "neighbour_space": "encoder",
              "theta_temperature": 1.0, "num_epochs": 100},
}


def _teacher_setting(field: str):
    """Normaliser of one teacher setting: numpy scalars made plain, whole floats -> int for integer fields. The
    values are validated together by TeacherConfig itself (``_teacher_configs`` in ``set_hyperparameters``: its
    message names the setting and what is allowed; an ensemble's members one by one)."""
    is_int = isinstance(_TEACHER_DEFAULTS[field], int)

    def check(name, value):
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, np.generic):
            value = value.item()
        if is_int and isinstance(value, float) and value.is_integer():
            value = int(value)
        return value
    return check


# Hyper-parameters: name -> (default, checker). The one source of truth for names, defaults and allowed
# values: every value is checked (and numpy scalars from OCTIS's Optimizer made plain) at construction and in
# set_hyperparameters / set_params / train_model(hyperparameters=...), before any teacher pass.
_POSITIVE = real(0, low_open=True)
_PARAMS: dict[str, tuple[Any, Any]] = {
    "num_topics": (20, integer(1)),
    "backbone": ("prodlda", choice(*BACKBONES)),
    "word_embeddings": ("word2vec", choice(*WORD_EMBEDDINGS)),
    "temperature": (2.0, _POSITIVE),
    "calibration": ("corpus", lambda name, v: None if v in (None, "none") else choice(*CALIBRATIONS)(name, v)),
    "reconstruction_weight": (None, optional(_POSITIVE)),
    "loss": ("kl", choice("kl", "nll")),
    "target": ("soft", choice("soft", "bow")),
    "input": ("auto", choice(*INPUTS)),
    "standardize_input": ("auto", either(choice("auto"), boolean, "'auto', True or False")),
    "bow_weight": ("auto", either(choice("auto"), real(0, 1), "'auto' or a number in [0, 1]")),
    "diversity_weight": (None, optional(real(0))),
    "kl_direction": ("target_model", choice("target_model", "model_target")),
    "student_temperature": (True, either(exact_boolean, _POSITIVE, "True, False or a finite number > 0")),
    "hidden_sizes": ((200, 200), sequence_of(integer(1), "a sequence of integers >= 1, e.g. (200, 200)")),
    "activation": ("softplus", choice(*_ACTIVATIONS)),
    "dropout": (0.2, real(0, 1, high_open=True)),
    "learn_priors": (True, boolean),
    # below .01 theta = softmax(mu / T) of a unit-scale posterior mean is one-hot, or NaN once mu / T overflows
    "theta_temperature": ("auto", either(choice("auto"), real(0.01), "'auto' or a number >= 0.01")),
    "target_neighbours": ("auto", either(choice("auto"), integer(0), "'auto' or an integer >= 0")),
    "neighbour_weight": ("auto", either(choice("auto"), optional(real(0, 1)),
                                        "'auto', None or a finite number in [0, 1]")),
    "neighbour_space": ("auto", choice("auto", *NEIGHBOUR_SPACES)),
    "lr": (2e-3, _POSITIVE),
    "betas": ((0.99, 0.99), sequence_of(real(0, 1, high_open=True), "two numbers in [0, 1)", length=2)),
    "lr_scheduler": ("cosine", choice("cosine", "none", None)),
    "batch_size": (64, integer(2)),  # BatchNorm needs two rows per batch
    "num_epochs": ("auto", either(choice("auto"), integer(1), "'auto' or an integer >= 1")),
    "num_samples": (10, integer(1)),
    "theta_estimate": ("mean", choice("samples", "mean")),
    "seed": (0, optional(integer(0))),
    **{name: (_TEACHER_DEFAULTS[field], _teacher_setting(field)) for name, field in _TEACHER_PARAMS.items()
       if name != "max_doc_tokens"},
    # "auto": chosen at fit by the training documents' length (the teacher's TeacherConfig still gets an integer)
    "max_doc_tokens": ("auto", either(choice("auto"), integer(1), "'auto' or an integer >= 1")),
    "device": ("auto", torch_device),
    "cache_dir": (None, optional(text(path=True))),  # str, so that it is JSON-safe (pathlib.Path accepted)
    "embedding_model": (None, optional(has_method("encode", "None or an object with an encode(list[str]) method"))),
    "use_partitions": (False, boolean),
    "verbose": (True, boolean),
    "preset": (None, choice(None, *PRESETS)),
}
#: parameters added after models were saved (and benchmark runs recorded) -> the value that trains as those did:
#: a save without the parameter loads with it (not with today's default, which may differ)
PARAMS_ADDED_LATER: dict[str, Any] = {"diversity_weight": 0.0, "bow_weight": 0.0, "theta_temperature": 1.0,
                                      "target_neighbours": 0, "neighbour_weight": None, "neighbour_space": "encoder"}
#: parameters whose meaning changed -> (the save format that brought the change, the value that meant it before, the
#: value that means it now): the params of a save of an older format (or a benchmark record's settings,
#: ``benchmarks.variants``) that hold the second trained as the third does today. ``standardize_input=False`` was
#: overridden under ``input="auto"`` on long corpora until 0.15 (format 3), which is what ``"auto"`` does now; False
#: now means False.
PARAMS_CHANGED_LATER: dict[str, tuple[int, Any, Any]] = {"standardize_input": (3, False, "auto")}
# not written by save(): an object, and a machine-local path (a loaded model uses the default teacher cache or
# the cache_dir passed to load(); older saves that hold one are read without it)
_NOT_SAVED = {"embedding_model", "cache_dir"}
_INPUT_STATS = "dsl_input_stats."  # safetensors key prefix of the standardisation statistics
#: the settings a fit resolves ("auto" -> a value), stored as ``<name>_`` and saved under config.json "resolved"
_RESOLVED = ("input", "standardize_input", "max_doc_tokens", "diversity_weight", "bow_weight", "target_neighbours",
             "neighbour_weight", "neighbour_space", "theta_temperature", "num_epochs")
#: the settings that build the student network: a fit records them (``network_settings_``) and a save writes them
#: (config.json "network"), so that a set_params of one after the fit changes the next fit, not what the fitted
#: network is or how a load rebuilds it
_NETWORK_PARAMS = ("backbone", "num_topics", "hidden_sizes", "activation", "dropout", "learn_priors",
                   "theta_temperature")
#: 4: "resolved" holds neighbour_space (saves of 1-3 load with their params' space); 3: params in today's meaning
#: (PARAMS_CHANGED_LATER); 2: model.safetensors records the vocabulary's checksum; 1: older saves (no checksum)
MODEL_FORMAT = 4


class DSL(AbstractModel):
    """Topic model distilling soft labels from a language model (arXiv 2602.17907).

    One line: ``DSL(num_topics=20)``. Inside OCTIS use :meth:`train_model`; elsewhere use
    :meth:`fit` / :meth:`transform` / :meth:`get_topics`.

    The defaults (0.16) are the quality study's choice (benchmarks/results/quality_study.md): the packaged
    Gemma-3-270M teacher, its word logits calibrated by their corpus mean, soft labels at tau 2 blended 30% with
    the document's bag of words (50% when the documents are token lists: ``bow_weight="auto"``), theta from the
    posterior mean, a penalty on duplicate topics
    (``diversity_weight``), and for long documents (``input="auto"``, ``max_doc_tokens="auto"``) the packaged MiniLM
    sentence embedding next to the LM state (alone, for long token lists, whose targets are also pooled with their 20
    nearest neighbours' by the embeddings and the targets: ``target_neighbours="auto"``, ``neighbour_space="auto"``,
    and whose theta is a softmax at temperature 1.3:
    ``theta_temperature="auto"``) and a teacher that reads 256 tokens of each document instead of 128; short
    documents (token lists or raw text) and long raw text whose words the sentence encoder knows have their targets
    pooled with their 15 nearest neighbours' (the neighbours weighing .75: ``neighbour_weight="auto"``); on long
    token lists ProdLDA trains for 200 epochs instead of 100 (``num_epochs="auto"``). ``DSL(preset="paper")`` is the
    published method.

    Args:
        num_topics: K.
        language_model: packaged alias (``"gemma3-270m"``, ``"smollm2-135m"``), local path or HF id.
        temperature: tau of the soft labels softmax(logits / tau) (default 2; the paper: 3).
        calibration: what is subtracted from each word's teacher logit before the softmax: ``"corpus"``
            (the default: the word's mean logit over the training documents; removes words whose first
            sub-token is generically likely, e.g. "aop" -> " a"), None (the paper) or ``"contextual"``
            (the word's logit for a content-free document, "N/A"; one extra one-document LM pass).
        reconstruction_weight: lambda; None = 1e3, except 1 for the ProdLDA objective
            (``loss="nll"`` with ``target="bow"``, whose counts already sum to the document length).
            A soft target sums to 1, so the paper's NLL ablation keeps 1e3: with weight 1 the
            reconstruction term is ~1000x smaller than the prior KL and the posterior collapses
            (measured: purity .067 on StackOverflow).
        loss: ``"kl"`` (the paper) or ``"nll"`` (ablation: cross-entropy -sum(target * log p),
            ProdLDA's reconstruction loss). On soft labels it equals KL(target||model) plus the
            target's entropy, so at the same ``temperature`` it trains identically; the paper's
            ablation is the untempered one, ``loss="nll", temperature=1``.
        target: ``"soft"`` (LM soft labels) or ``"bow"`` (normalised bag of words, ablation).
        input: ``"auto"`` (the default: ``"lm"`` for short documents; for long ones, a training corpus whose
            documents hold on average at least ``LONG_DOCUMENT_WORDS`` = 32 vocabulary words, ``"lm+embeddings"``
            (standardised under ``standardize_input="auto"``), or ``"embeddings"`` (the same) when they are also
            token lists (:func:`is_token_list_corpus`; quality study round 10); chosen at fit, kept as ``input_``),
            ``"lm"`` (LM hidden state), ``"embeddings"`` (``embedding_model.encode`` alone; the soft labels stay the
            target), ``"lm+embeddings"`` (both, concatenated; ``embedding_model`` defaults to the packaged
            all-MiniLM-L6-v2) or ``"lm+bow"`` (the LM hidden state next to the document's bag of words, each row of
            it at unit length times the mean hidden-state length of the training documents, as CombinedTM puts the
            bag of words next to its embedding; no extra LM pass).
        bow_weight: with ``target="soft"``, the target is ``(1 - w) * soft label + w * the document's normalised
            bag of words`` (0: the paper's pure soft label; documents with no vocabulary word keep the soft label).
            ``"auto"`` (the default; chosen at fit, kept as ``bow_weight_``): ``TOKEN_LIST_BOW_WEIGHT`` = 0.5 for a
            corpus of token lists, where the LM reads joined keywords (:func:`is_token_list_corpus`: at least 95%
            of the training documents are exactly their token lists, or words of the vocabulary, joined by single
            spaces, as in an OCTIS folder without raw text; quality study round 9), ``TEXT_BOW_WEIGHT`` = 0.3 for
            text (round 1).
        diversity_weight: weight of a penalty on duplicate topics, added to every document's loss (a batch term,
            like ECRTM's regulariser): this weight x :func:`~dsl_plugin.student.topic_overlap` of the topic-word
            matrix (over every two topics, the squared positive part of the cosine similarity of their word
            profiles, each word standardised across topics; 0 to 1). None (the default) = the backbone's
            (``DEFAULT_DIVERSITY_WEIGHTS``): 1e4 on ProdLDA (since 0.5, chosen by the quality study's round 7), 0 on
            ETM / ECRTM (not measured there; a weight may be given) and FASTopic (the penalty reads the backbone's
            ``beta``, which FASTopic computes without gradient from its transport plan: a weight > 0 is refused).
            0 turns it off (the paper, ``preset="paper"``, and DSL <= 0.4).
        standardize_input: z-score every input feature with the training documents' mean and standard
            deviation (kept in the saved model), so that blocks of different scale (LM hidden states,
            sentence embeddings, two LMs) weigh alike. ``"auto"`` (the default; chosen at fit, kept as
            ``standardize_input_``): True where ``input="auto"`` chooses the MiniLM embedding (a long training
            corpus: the inputs it reads there were chosen standardised, quality study rounds 4 and 10), else False.
            True or False is what the fit does, whatever the input (before 0.15 a long corpus under
            ``input="auto"`` was standardised even when False was given).
        kl_direction: ``"target_model"`` KL(target||model) (authors' code) or ``"model_target"``.
        student_temperature: True divides the decoder logits by ``temperature`` (authors' code);
            False or a float sets it explicitly. Every backbone: ETM's and FASTopic's mixture log-probabilities
            are divided like ProdLDA's and ECRTM's logits (the authors' code for those three does not temper;
            ``student_temperature=False`` is that).
        hidden_sizes, activation, dropout, learn_priors: ProdLDA encoder settings (also the ETM and ECRTM
            encoders'; their priors are fixed, so ``learn_priors`` is ProdLDA's only; FASTopic has no encoder).
        theta_temperature: ProdLDA only: theta = softmax(z / theta_temperature) of the logistic-normal posterior
            sample z, in training and at inference (the decoder learns on the same proportions the model reports).
            1 is ProdLDA; above 1 gives flatter document-topic proportions; other backbones take 1 only. ``"auto"``
            (the default; chosen at fit, kept as ``theta_temperature_``):
            ``LONG_TOKEN_LIST_THETA_TEMPERATURE`` = 1.3 for a ProdLDA fit on long token lists (as for
            ``target_neighbours``; quality study round 15, over pooled targets), 1 for every other corpus and
            backbone. Round 12 measured 1.5 and 2 there before pooled targets (purity fell).
        target_neighbours: k > 0 trains each document on a blend (``neighbour_weight``) of its own target and those
            of its k nearest training documents (where ``neighbour_space`` says: by default cosine similarity of their
            ``embedding_model`` sentence embeddings, the packaged MiniLM's; searched within random blocks of
            ``NEIGHBOUR_BLOCK`` = 50,000 documents of a larger corpus, on the fit's device), so a document's few or
            noisy words are pooled with its neighbours'.
            Training only (``transform`` reads no neighbours); every backbone and target; 0 is off. ``"auto"`` (the
            default; chosen at fit, kept as ``target_neighbours_``): for a corpus of long token lists (token lists
            as ``bow_weight="auto"`` detects them, at least 32 vocabulary words per document as ``input="auto"``
            measures it) ``LONG_TOKEN_LIST_NEIGHBOURS`` by the resolved ``neighbour_space``: 20 found by both (the
            default there on ProdLDA; quality study round 22), 5 by the encoder (round 14; other backbones, or
            ``neighbour_space="encoder"`` given) or the targets alone;
            ``DEFAULT_NEIGHBOURS`` = 15
            for every other corpus (short token lists, short or long raw text) whose words the sentence encoder
            knows (at least
            ``ENCODER_MIN_WORD_SHARE`` = .5 of their word occurrences are one token of its vocabulary,
            :func:`~dsl_plugin.embeddings.whole_word_share`: the packaged English MiniLM reads .79-.98 of the English
            benchmark sets' so, .27 of DBPedia_IT's; an encoder of yours without a readable ``tokenizer`` counts as
            knowing them; quality study rounds 16 and 17 for short token lists, 18 for short raw text, 20 for long
            raw text); 0 for corpora the encoder does not know (pooling by its neighbours lost .035 / .045 purity /
            P@10 on DBPedia_IT, Italian).
        neighbour_weight: how much the neighbours' targets weigh in a pooled target: a number w in [0, 1] makes each
            target ``(1 - w) * own + w * (the mean of the k neighbours')``; None: the plain mean of the k + 1
            targets (w = k / (k + 1)). ``"auto"`` (the default; kept as ``neighbour_weight_``):
            ``DEFAULT_NEIGHBOUR_WEIGHT`` = .75 when a fit pools, except on long token lists: None (the plain mean,
            as rounds 14 and 22 chose it). Only with ``target_neighbours_`` > 0 (a number on a fit
            that pools nothing is named in a warning).
        neighbour_space: where ``target_neighbours`` finds a document's neighbours: ``"encoder"`` (cosine of the
            ``embedding_model`` sentence embeddings), ``"targets"`` (cosine of the documents' own targets in
            Hellinger geometry, each target's square root centred by their mean: the teacher's view plus the bag of
            words, no sentence encoder; :func:`~dsl_plugin.student.target_geometry`) or ``"both"`` (the two, each at
            unit length, side by side: the two cosines averaged). ``"targets"`` and ``"both"`` build the targets'
            rows of one search block at a time, each block at most ``NEIGHBOUR_BLOCK`` documents and no more than
            ``TARGET_SEARCH_BYTES`` = 2 GiB of rows hold (about 3-4 block x |V| float32 arrays;
            :func:`~dsl_plugin.student.neighbour_block`: 50,000 documents up to |V| = 2,684 for "both", smaller
            blocks beyond), whatever the machine. ``"auto"`` (the default; kept as ``neighbour_space_``):
            ``LONG_TOKEN_LIST_NEIGHBOUR_SPACE`` = ``"both"`` for long token lists on the ProdLDA backbone with
            ``target_neighbours="auto"`` (quality study round 22, which chose the space and the 20 neighbours
            together: chosen on debian-4k-tokens, no harm on the 20 Newsgroups token copy, confirmed on BBC News);
            ``"encoder"`` elsewhere, and with a number of neighbours you give (as before 0.16). Only with
            ``target_neighbours_`` > 0: ``target_neighbours="auto"`` pools nothing on a corpus the sentence encoder
            does not read, so there pass ``target_neighbours=k`` (a warning names an explicit space that pools
            nothing).
        backbone: the topic model the target trains, all from the same teacher outputs (no extra LM pass):
            ``"prodlda"`` (the paper), ``"etm"`` (topic and word embeddings, beta = softmax of their products;
            Dieng et al. 2020), ``"ecrtm"`` (ProdLDA-style VAE with embedding beta and the Sinkhorn embedding
            clustering regulariser; Wu et al. 2023) or ``"fastopic"`` (documents, topics and words related by two
            Sinkhorn transport plans, trained on all documents at once, so ``batch_size`` is unused; Wu et al.
            2024). See :mod:`dsl_plugin.student._backbones`.
        word_embeddings: the word vectors of the ``"etm"`` (fixed) and ``"ecrtm"`` (initial) backbones:
            ``"word2vec"`` (skip-gram word2vec trained on the training documents, as the ETM baseline) or ``"lm"``
            (the teacher LM's input embeddings of each word's tokens; an ensemble's concatenated).
        lr, betas, lr_scheduler, batch_size: Adam training (``"cosine"`` decay over the epochs, or None).
        num_epochs: passes over the training documents. ``"auto"`` (the default; chosen at fit, kept as
            ``num_epochs_``): ``LONG_TOKEN_LIST_EPOCHS`` = 200 for a ProdLDA fit on long token lists (as for
            ``target_neighbours``; quality study round 19: the student learns its pooled targets better, at about
            2x the training time and no teacher cost; 300 gained about as much), ``DEFAULT_EPOCHS`` = 100 for every
            other corpus and backbone (ProdLDA's and the paper's; round 12 measured 50 on long token lists: lower).
        num_samples: posterior samples averaged at inference.
        theta_estimate: ``"mean"`` (the default: the softmax of the posterior mean; deterministic, sharper;
            ``num_samples`` unused) or ``"samples"`` (the paper: the mean of ``num_samples`` posterior samples).
        seed: makes training and inference reproducible (None: not seeded). Seeding never touches the
            caller's global numpy / torch random state (torch's is forked for the duration of training).
        language_model, revision, prompt_template, instruction, prompt_format, max_doc_tokens, word_scoring,
            pooling, hidden_layer, quantize, dtype, cache_dtype: the teacher's settings (see
            :class:`dsl_plugin.TeacherConfig`;
            ``language_model`` is its ``model``). Several models joined by ``"+"``
            (``"smollm2-135m+gemma3-270m"``) form an ensemble: the soft label averages the members'
            (calibrated) log-probabilities, the input concatenates their hidden states.
            ``max_doc_tokens`` (the LM tokens read of each document, the rest truncated) also takes ``"auto"``
            (the default): ``LONG_DOCUMENT_TOKENS`` = 256 for a long training corpus (as ``input="auto"``
            measures it), else TeacherConfig's 128; chosen at fit, kept as ``max_doc_tokens_``, and used by
            :meth:`transform` (``teacher_configs_for`` tells it before a fit, e.g. to fill the cache ahead).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``.
        cache_dir: teacher cache root (default ``$DSL_PLUGIN_CACHE`` or ``~/.cache/dsl_plugin``).
        embedding_model: object with ``encode(list[str]) -> array`` for ``input="embeddings"`` and
            ``"lm+embeddings"`` and for the neighbour search of ``target_neighbours`` (its ``tokenizer``, if it has
            one, is read by ``target_neighbours="auto"`` on every corpus but long token lists); None: the packaged
            all-MiniLM-L6-v2
            (its embeddings cached under ``cache_dir``; the parameter stays None after a fit).
        use_partitions: OCTIS: train on the train partition, infer the test partition.
        verbose: progress bars and log lines.
        preset: None (the package defaults) or ``"paper"`` (the method as published: raw soft labels at tau 3,
            theta from posterior samples at temperature 1, the LM's last hidden state in, 128 tokens per document,
            no duplicate-topic penalty, no pooled targets, 100 epochs; on ``language_model``). The arguments
            you pass win over the preset. Applied at construction only.

    Every value is checked when it is set (constructor, :meth:`set_params`, :meth:`set_hyperparameters`,
    ``train_model(dataset, hyperparameters)``), before any language-model pass: a bad value raises
    ``ValueError`` naming the parameter and its allowed range, and leaves the model unchanged. Integer
    parameters accept numpy integers and whole floats (``20.0`` from ``skopt.space.Real``), never fractions
    (``num_topics=2.7`` is refused, not truncated). See docs/robustness.md.
    """

    def __new__(cls, *args, **kwargs):
        # the names of the arguments given explicitly: a preset fills in the others (__init__ alone cannot tell
        # an argument passed with the default value from one left out)
        self = super().__new__(cls)
        positional = list(inspect.signature(cls.__init__).parameters)[1:1 + len(args)]
        self._given = set(kwargs) | set(positional)
        return self

    def __init__(self, num_topics: int = 20, language_model: str = _TEACHER_DEFAULTS["model"],
                 temperature: float = 2.0, calibration: str | None = "corpus",
                 reconstruction_weight: float | None = None, loss: str = "kl", target: str = "soft",
                 input: str = "auto", standardize_input: bool | str = "auto", bow_weight: float | str = "auto",
                 diversity_weight: float | None = None, kl_direction: str = "target_model",
                 student_temperature: bool | float = True,
                 hidden_sizes: Sequence[int] = (200, 200), activation: str = "softplus", dropout: float = 0.2,
                 learn_priors: bool = True, lr: float = 2e-3, betas: Sequence[float] = (0.99, 0.99),
                 lr_scheduler: str | None = "cosine", batch_size: int = 64, num_epochs: int | str = "auto",
                 num_samples: int = 10, theta_estimate: str = "mean", seed: int | None = 0, revision: str | None = _TEACHER_DEFAULTS["revision"],
                 prompt_template: str = _TEACHER_DEFAULTS["prompt_template"],
                 prompt_format: str = _TEACHER_DEFAULTS["prompt_format"],
                 max_doc_tokens: int | str = "auto",
                 word_scoring: str = _TEACHER_DEFAULTS["word_scoring"], pooling: str = _TEACHER_DEFAULTS["pooling"],
                 hidden_layer: int = _TEACHER_DEFAULTS["hidden_layer"], quantize: str | None = _TEACHER_DEFAULTS["quantize"],
                 dtype: str = _TEACHER_DEFAULTS["dtype"], cache_dtype: str = _TEACHER_DEFAULTS["cache_dtype"],
                 device: str = "auto",
                 cache_dir: str | None = None, embedding_model: Any = None, use_partitions: bool = False,
                 verbose: bool = True, preset: str | None = None, backbone: str = "prodlda",
                 word_embeddings: str = "word2vec", instruction: str = _TEACHER_DEFAULTS["instruction"],
                 theta_temperature: float | str = "auto", target_neighbours: int | str = "auto",
                 neighbour_weight: float | str | None = "auto", neighbour_space: str = "auto"):
        super().__init__()
        params = {k: v for k, v in locals().items() if k in _PARAMS}
        if preset is not None:
            if preset not in PRESETS:
                raise ValueError(f"preset must be one of {sorted(PRESETS)} or None, got {preset!r}")
            # the preset replaces the package defaults; an argument given explicitly wins
            params.update({k: v for k, v in PRESETS[preset].items() if k not in self._given})
        self.set_hyperparameters(**params)
        self.teachers_: list[SoftLabelTeacher] = []

    # ------------------------------------------------------------------ parameters
    def set_hyperparameters(self, **kwargs) -> "DSL":
        """Set hyper-parameters (also as attributes). Every value is checked against ``_PARAMS`` first: an
        unknown name or a value out of range raises ``ValueError`` and leaves the model unchanged."""
        new = validate(_PARAMS, kwargs, "DSL")
        if set(new) & set(_TEACHER_PARAMS):  # the teacher settings together (e.g. an ensemble's members)
            _teacher_configs({k: new.get(k, getattr(self, k, _PARAMS[k][0])) for k in _TEACHER_PARAMS},
                             _TEACHER_DEFAULTS["max_doc_tokens"])
        for k, v in new.items():
            setattr(self, k, v)
            self.hyperparameters[k] = v
        return self

    def get_params(self, deep: bool = True) -> dict:
        """scikit-learn style parameters."""
        return {k: getattr(self, k) for k in _PARAMS}

    def set_params(self, **params) -> "DSL":
        return self.set_hyperparameters(**params)

    def partitioning(self, use_partitions: bool, update_with_test: bool = False) -> None:
        """OCTIS API: whether :meth:`train_model` uses the dataset's train/test partitions."""
        self.use_partitions = bool(use_partitions)
        self.hyperparameters["use_partitions"] = self.use_partitions

    # ------------------------------------------------------------------ helpers
    @property
    def teacher_config(self) -> TeacherConfig:
        """The :class:`TeacherConfig` of this model's (first) teacher."""
        return self.teacher_configs[0]

    @property
    def teacher_configs(self) -> list[TeacherConfig]:
        """One :class:`TeacherConfig` per ensemble member (one for a single LM). With ``max_doc_tokens="auto"``: the
        value resolved by the last fit (``max_doc_tokens_``); before a fit, the short-corpus value (TeacherConfig's
        default); :meth:`teacher_configs_for` gives the configurations a fit on given documents would use."""
        return _teacher_configs({k: getattr(self, k) for k in _TEACHER_PARAMS},
                                getattr(self, "max_doc_tokens_", _TEACHER_DEFAULTS["max_doc_tokens"]))

    def teacher_configs_for(self, token_lists: Sequence[Sequence[str]],
                            vocabulary: Sequence[str]) -> list[TeacherConfig]:
        """The teacher configurations a fit on these training documents (their token lists) with this vocabulary
        would use: ``max_doc_tokens="auto"`` resolved by their length, as :meth:`fit` does. For filling the teacher
        cache ahead of a fit (``dsl-topic teacher`` uses it); changes nothing on the model."""
        long = is_long_corpus(token_lists, vocabulary)  # what max_doc_tokens="auto" reads (not the documents' form)
        return _teacher_configs({k: getattr(self, k) for k in _TEACHER_PARAMS},
                                resolve(self.get_params(), long, token_list=False)["max_doc_tokens"])

    def resolved_for(self, token_lists: Sequence[Sequence[str]], vocabulary: Sequence[str],
                     documents: Sequence[str] | None = None) -> dict[str, Any]:
        """What a fit on these training documents (their token lists; ``documents``: their text as the LM reads it)
        with this vocabulary would read, the ``"auto"`` settings resolved by their length (:func:`is_long_corpus`)
        and form (:func:`is_token_list_corpus`), and (but for long token lists) by the sentence encoder's vocabulary
        (:meth:`_word_share`): ``{"input", "standardize_input", "max_doc_tokens", "diversity_weight", "bow_weight",
        "target_neighbours", "neighbour_weight", "neighbour_space", "theta_temperature", "num_epochs"}``
        (``diversity_weight``: None resolved to the backbone's), the values a fit stores as ``input_``,
        ``standardize_input_``, ``max_doc_tokens_``, ``diversity_weight_``, ``bow_weight_``, ``target_neighbours_``,
        ``neighbour_weight_``, ``neighbour_space_``,
        ``theta_temperature_``, ``num_epochs_``.
        ``documents`` is needed when a setting that reads the documents' form (:data:`~dsl_plugin._auto.BY_FORM`) is
        ``"auto"`` (for an OCTIS folder without raw text: the token lists joined by spaces). Changes nothing on the
        model."""
        params = self.get_params()
        if documents is None and auto_in(params, BY_FORM):
            raise ValueError("resolved_for needs documents (the text the LM reads; for token lists, each joined by "
                             f"spaces) to resolve {', '.join(auto_in(params, BY_FORM))} 'auto'")
        token_list = documents is not None and is_token_list_corpus(documents, token_lists, vocabulary)
        vocabulary = check_vocabulary(vocabulary)
        bow = bag_of_words(token_lists, vocabulary)
        return resolve(params, is_long(bow), token_list, lambda: self._word_share(bow, vocabulary))

    @property
    def resolved_(self) -> dict[str, Any]:
        """What the fitted model reads and trained with, its ``"auto"`` / None settings resolved: ``{name:
        getattr(self, name + "_")}`` for each name of :data:`_RESOLVED` (``input``, ``standardize_input``,
        ``max_doc_tokens``, ``diversity_weight``, ``bow_weight``, ``target_neighbours``, ``neighbour_weight``,
        ``neighbour_space``, ``theta_temperature``, ``num_epochs``); saved with it, so that a later change of a default
        does not change what a saved model says it is."""
        self._check_fitted()
        return {name: getattr(self, name + "_") for name in _RESOLVED}

    def describe(self) -> str:
        """What the fitted model reads and how it trained, in one line: its teacher and the tokens it reads, the
        student's input, the bag of words' share of the target, pooled targets and theta's temperature where used,
        the epochs; e.g. ``"LM gemma3-270m, max_doc_tokens 256, student input embeddings (standardised), targets 50%
        bag of words, pooled with 20 neighbours found by the encoder and the targets, theta temperature 1.3, 200
        epochs"``. :attr:`resolved_` has every resolved setting."""
        self._check_fitted()
        parts = [f"LM {self.language_model}", f"max_doc_tokens {self.max_doc_tokens_}",
                 f"student input {self.input_}{' (standardised)' if self.standardize_input_ else ''}"]
        target = [f"{100 * self.bow_weight_:.0f}% bag of words"] if self.target == "soft" and self.bow_weight_ else []
        if self.target_neighbours_:
            weight = "" if self.neighbour_weight_ is None else f" (their weight {self.neighbour_weight_:g})"
            space = {"encoder": "", "targets": " found by the targets",
                     "both": " found by the encoder and the targets"}[self.neighbour_space_]
            target.append(f"pooled with {self.target_neighbours_} neighbours{space}{weight}")
        if target:
            parts.append("targets " + ", ".join(target))
        if self.theta_temperature_ != 1:
            parts.append(f"theta temperature {self.theta_temperature_:g}")
        return ", ".join(parts + [f"{self.num_epochs_} epochs"])

    def _word_share(self, bow, vocabulary: Sequence[str]) -> float | None:
        """:func:`~dsl_plugin.embeddings.whole_word_share` of the sentence encoder (``embedding_model``, by default the
        packaged MiniLM, whose packages it then needs) on the corpus whose bag of words is ``bow``."""
        from .embeddings import PackagedMiniLM, whole_word_share

        encoder = self._embedder()
        if isinstance(encoder, PackagedMiniLM):
            PackagedMiniLM.check_installed("target_neighbours='auto' on every corpus but long token lists reads the "
                                           "sentence encoder's vocabulary (and, if it knows their words, pools by "
                                           "its embeddings; target_neighbours=0 skips this), but ")
        return whole_word_share(encoder, vocabulary, np.asarray(bow.sum(axis=0)).ravel())

    def _teachers(self) -> list[SoftLabelTeacher]:
        configs = self.teacher_configs
        current = self.teachers_
        if [t.config for t in current] != configs or any(t.cache_dir != self.cache_dir for t in current):
            self.teachers_ = [SoftLabelTeacher(c, device=self.device, cache_dir=self.cache_dir,
                                               show_progress=self.verbose) for c in configs]
        return self.teachers_

    @property
    def teacher_(self) -> SoftLabelTeacher | None:
        """The (first) teacher in use, None before the first fit."""
        return self.teachers_[0] if self.teachers_ else None

    def _teacher_outputs(self, documents: Sequence[str], vocabulary: Sequence[str]):
        """Teacher outputs of every ensemble member: log-probabilities averaged, hidden states concatenated.

        With contextual calibration each member's logits for the content-free document are subtracted
        first. For a single LM without contextual calibration these are the teacher's raw outputs.

        In memory (a :class:`TeacherOutputs`) when the fit's arrays fit in :func:`memory_budget`; otherwise left in
        the teacher cache and combined batch by batch as they are read (same float32 math), so training streams.
        """
        members, offsets = [], []
        for t in self._teachers():
            members.append(t.compute(documents, vocabulary, lazy=True))
            offsets.append(t.compute([CONTENT_FREE_DOCUMENT], vocabulary).logits if self.calibration == "contextual"
                           else None)
        out = _CombinedOutputs(members, offsets)
        if all(getattr(m, "in_memory", True) for m in members):
            return out.to_memory()
        need = _in_memory_bytes(len(out), out.width("logits"), out.width("hidden"), len(members))
        budget = memory_budget()
        if need <= budget:
            return out.to_memory()
        logger.info("DSL: the teacher outputs and training rows of %d documents need ~%.1f GB in memory, more than "
                    "the budget of %.1f GB (%s): reading them from the teacher cache batch by batch", len(out),
                    need / 2**30, budget / 2**30, MEMORY_BUDGET_ENV)
        return out

    def _diversity_weight(self) -> float:
        """The weight of the penalty on duplicate topics this model trains with (None: the backbone's default);
        ``ValueError`` naming it if the backbone cannot take one (checked at fit, before any LM pass)."""
        return resolve_diversity_weight(self.backbone, self.diversity_weight)

    def _weight(self) -> float:
        if self.reconstruction_weight is not None:
            return float(self.reconstruction_weight)
        return 1.0 if (self.loss == "nll" and self.target == "bow") else DEFAULT_WEIGHTS[self.backbone]

    def _student_temperature(self) -> float:
        st = self.student_temperature
        if isinstance(st, bool):
            return float(self.temperature) if st else 1.0
        return float(st)

    def _bow(self, token_lists: Sequence[Sequence[str]] | None, documents: Sequence[str] = ()):
        """The bag of words (sparse, vocabulary order) of ``token_lists``, or of ``documents`` tokenised as read."""
        return bag_of_words(token_lists if token_lists is not None else TokenizedTexts(documents), self.vocabulary_)

    def _bow_needed(self, fit: bool) -> bool:
        """Whether the student's input (``input="lm+bow"``) or, when fitting, its target or an ``"auto"`` setting of
        ``BY_LENGTH`` (the documents' length) reads the bag of words."""
        if fit:
            return self.input == "lm+bow" or bool(auto_in(self.get_params(), BY_LENGTH)) or self._target_reads_bow()
        return self.input_ == "lm+bow"

    def _target_reads_bow(self) -> bool:
        return self.target == "bow" or bool(self.bow_weight)  # "auto" too: either weight it resolves to is > 0

    def _as_resolved(self, name: str):
        """A setting of the target as given, or for ``"auto"`` as this fit resolved it (``<name>_``; a target built
        outside a fit, e.g. ``_targets`` of an unfitted model with a number, needs no resolution)."""
        value = getattr(self, name)
        return getattr(self, name + "_") if value == "auto" else value

    def _input_bow(self, documents: Sequence[str], token_lists, fit: bool):
        """The bag of words the input or (``fit``) the target reads, or None; with ``fit``, first resolves the
        ``"auto"`` settings (:meth:`_resolve_settings`, which reads it, ``documents`` and ``token_lists``)."""
        bow = self._bow(token_lists, documents) if self._bow_needed(fit) else None
        if fit:
            self._resolve_settings(bow, documents, token_lists)
            self._check_embedder(documents)
        return bow

    def _resolve_settings(self, bow, documents: Sequence[str], token_lists) -> None:
        """This fit's resolved settings (each name of ``_RESOLVED`` + ``_``: ``input_``, ``standardize_input_``
        (what the student reads), ``max_doc_tokens_`` (what the teacher reads), ``diversity_weight_``, ``bow_weight_``,
        ``target_neighbours_``, ``neighbour_weight_``, ``neighbour_space_`` (the target), ``theta_temperature_`` (the
        network),
        ``num_epochs_`` (its training)): as given, or for ``"auto"`` chosen by :func:`~dsl_plugin._auto.resolve` from
        the training documents' length (the mean number of vocabulary words in ``bow``, their bag of words; long from
        ``LONG_DOCUMENT_WORDS``), form (:func:`is_token_list_corpus` of ``documents``, ``token_lists`` and the
        vocabulary; ``token_lists`` None: tokenised from ``documents``) and (but for long token lists) the sentence
        encoder's vocabulary (:meth:`_word_share`); also ``neighbours_embedder_``, the encoder that finds pooled
        targets' neighbours."""
        logged = [name for name in ("input", "max_doc_tokens") if getattr(self, name) == "auto"]  # (the log line's)
        params = self.get_params()
        by_form = auto_in(params, BY_FORM)
        words = mean_words(bow) if auto_in(params, BY_LENGTH) else 0.0
        long = words >= LONG_DOCUMENT_WORDS
        token_list = bool(by_form) and is_token_list_corpus(
            documents, token_lists if token_lists is not None else TokenizedTexts(documents), self.vocabulary_)
        measured = []  # the word share, if the resolution read it (for the log line)

        def word_share():
            measured.append(self._word_share(bow, self.vocabulary_))
            return measured[0]
        resolved = resolve(params, long, token_list, word_share)
        share = measured[0] if measured else None
        for name, value in resolved.items():
            setattr(self, name + "_", value)
        # which encoder found the neighbours of pooled targets (saved; training only)
        self.neighbours_embedder_ = self._embedder_kind(self._pools_by_encoder())
        if logged:
            logger.info("DSL: %s='auto': the training documents hold %.1f vocabulary words on average (%s %d): the "
                        "student reads %s; the teacher reads up to %d tokens per document", " and ".join(logged),
                        words, ">=" if long else "<", LONG_DOCUMENT_WORDS,
                        _INPUT_WORDS.get(self.input_, self.input_)
                        + (" (standardised)" if self.standardize_input_ else ""), self.max_doc_tokens_)
        if self.bow_weight == "auto":
            logger.info("DSL: bow_weight='auto': the training documents are %s: the target is %.0f%% their bag of "
                        "words", "token lists (the LM reads joined keywords)" if token_list else "text",
                        100 * self.bow_weight_)
        if self.target_neighbours == "auto" and (self.target_neighbours_ or measured):
            corpus = (f"{'long' if long else 'short'} {'token lists' if token_list else 'texts'} ({words:.1f} "
                      "vocabulary words on average)")
            kind = (corpus if long and token_list else
                    f"{corpus}, of whose word occurrences the sentence encoder reads {100 * share:.0f}% as words of "
                    "its vocabulary" if share is not None else
                    f"{corpus}; the sentence encoder's vocabulary cannot be read: taken as knowing them")
            logger.info("DSL: target_neighbours='auto': the training documents are %s: %s", kind,
                        f"each document's target is pooled with its {self.target_neighbours_} nearest neighbours'"
                        + (f" (theirs weigh {self.neighbour_weight_:g})" if self.neighbour_weight_ is not None else "")
                        if self.target_neighbours_ else
                        f"no pooling (below {100 * ENCODER_MIN_WORD_SHARE:.0f}%: its neighbours would not be reliable)")
        if self.neighbour_space == "auto" and self.neighbour_space_ != "encoder":
            block = neighbour_block(self.neighbour_space_, len(self.vocabulary_))
            logger.info("DSL: neighbour_space='auto': long token lists: the neighbours of pooled targets are found by "
                        "the encoder and the targets side by side%s", "" if block >= len(documents) else
                        f" (within random blocks of {block} documents, which the memory bound of the search holds)")
        if self.neighbour_space not in ("encoder", "auto") and not self.target_neighbours_:
            logger.warning("DSL: neighbour_space=%r has no effect: this fit pools no neighbours' targets "
                           "(target_neighbours_=0; set target_neighbours=k)", self.neighbour_space)
        if self.neighbour_weight not in (None, "auto") and not self.target_neighbours_:
            logger.warning("DSL: neighbour_weight=%g has no effect: this fit pools no neighbours' targets "
                           "(target_neighbours_=0; set target_neighbours=k)", self.neighbour_weight)
        if self.theta_temperature == "auto" and self.theta_temperature_ != 1:
            logger.info("DSL: theta_temperature='auto': long token lists: theta = softmax(z / %g)",
                        self.theta_temperature_)
        if self.num_epochs == "auto" and self.num_epochs_ != DEFAULT_EPOCHS:
            logger.info("DSL: num_epochs='auto': long token lists: %d epochs", self.num_epochs_)

    def _embedder_kind(self, used: bool) -> str | None:
        """What a save records of the sentence encoder, where the fit ``used`` it: ``"packaged"`` (the packaged
        MiniLM) or ``"custom: <class>"``; None where it did not."""
        from .embeddings import PackagedMiniLM

        if not used:
            return None
        encoder = self._embedder()
        return "packaged" if isinstance(encoder, PackagedMiniLM) else f"custom: {type(encoder).__name__}"

    def _fit_reads_embeddings(self) -> list[str]:
        """The resolved settings of this fit that read the documents' sentence embeddings (none: an empty list)."""
        return ([f"input_={self.input_!r}"] if self.input_ in EMBEDDING_INPUTS else []) + (
            [f"target_neighbours_={self.target_neighbours_}"] if self._pools_by_encoder() else [])

    def _pools_by_encoder(self) -> bool:
        """Whether this fit finds pooled targets' neighbours by the sentence encoder's embeddings."""
        return bool(self.target_neighbours_) and self.neighbour_space_ != "targets"

    def _check_embedder(self, documents: Sequence[str]) -> None:
        """Before the teacher pass of a fit (``fit`` and ``train_model``, once the settings are resolved): when the
        fit reads sentence embeddings from the packaged MiniLM and they are not cached, ``ImportError`` now (naming
        the settings and the install commands) if its packages are missing, rather than after the LM pass."""
        from .embeddings import PackagedMiniLM

        reads, encoder = self._fit_reads_embeddings(), self._embedder()
        if not reads or not isinstance(encoder, PackagedMiniLM):
            return
        try:
            PackagedMiniLM.check_installed(f"this fit reads sentence embeddings ({', '.join(reads)}; 'auto' settings "
                                           "are resolved by the training documents' length and form), but ")
        except ImportError:
            if not encoder.is_cached(documents):  # (hashes every document: only when the packages miss)
                raise

    def _embedder(self):
        """The sentence encoder: ``embedding_model``, or when it is None the packaged MiniLM (caching under
        ``cache_dir``; a new instance each call, the parameter left as given: its model is loaded once per process)."""
        if self.embedding_model is not None:
            return self.embedding_model
        from .embeddings import PackagedMiniLM

        return PackagedMiniLM(cache_dir=None if self.cache_dir is None else os.path.join(self.cache_dir, "embeddings"))

    def _input_rows(self, documents: Sequence[str], teacher_out, fit: bool = False, bow=None, embeddings=None):
        """``rows -> the student's input rows`` (float32); with ``standardize_input`` z-scored by the training
        statistics, which ``fit`` computes first (passes over the rows, block by block).

        ``input="lm+bow"`` appends the document's row of ``bow`` (the bag of words, :meth:`_bow`) at unit length,
        scaled by ``bow_input_scale_``, the training rows' mean hidden-state length (so both blocks start on the same
        scale; fitted here with ``fit``). ``embeddings``: the documents' sentence embeddings when already encoded."""
        blocks = []
        if self.input_.startswith("lm"):
            blocks.append(lambda rows: teacher_out.read("hidden", rows))
        if self.input_ in EMBEDDING_INPUTS:
            emb = self._embeddings(documents) if embeddings is None else embeddings
            blocks.append(lambda rows: emb[rows])
        if self.input_ == "lm+bow":
            if fit:
                total = sum(float(np.linalg.norm(blocks[0](r), axis=1).sum()) for r in row_chunks(len(documents)))
                self.bow_input_scale_ = np.asarray([total / max(len(documents), 1)], dtype=np.float32)
            blocks.append(lambda rows: bow_features(bow[rows]) * self.bow_input_scale_)

        def raw(rows):
            return blocks[0](rows) if len(blocks) == 1 else np.concatenate([b(rows) for b in blocks], axis=1)

        if not self.standardize_input_:
            return raw
        if fit:
            self._set_input_statistics(lambda: (raw(r) for r in row_chunks(len(documents))))
        return lambda rows: self._standardized(raw(rows))

    def _embeddings(self, documents: Sequence[str]) -> np.ndarray:
        """The documents' sentence embeddings (``embedding_model``), float32."""
        return np.asarray(self._embedder().encode(list(documents)), dtype=np.float32)

    def _set_input_statistics(self, chunks) -> None:
        """The standardisation statistics from ``chunks()`` (an iterable of row blocks; read twice)."""
        self.input_mean_ = column_mean(chunks())
        self.input_scale_ = np.maximum(column_std(chunks(), self.input_mean_), 1e-6).astype(np.float32)

    def _standardized(self, x: np.ndarray, fit: bool = False) -> np.ndarray:
        """``x`` z-scored by the training statistics (with ``fit``, first computed from ``x``) when
        ``standardize_input_``; else ``x``."""
        if not self.standardize_input_:
            return x
        if fit:
            self._set_input_statistics(lambda: [x])
        return ((x - self.input_mean_) / self.input_scale_).astype(np.float32)

    def _target_rows(self, teacher_out, bow, neighbours: np.ndarray | None = None, own=None):
        """``rows -> the training targets`` (float32), built per block from the teacher logits and/or ``bow`` (the bag
        of words, :meth:`_bow`; None when neither the target nor ``bow_weight`` reads it) by the pure functions of
        :mod:`dsl_plugin.student`; the corpus calibration offset is computed first, in one pass over the logits.
        ``neighbours`` (``target_neighbours``: :func:`~dsl_plugin.student.neighbour_index` of the documents): each
        row's target is the mean of its own and its neighbours' (``neighbour_weight``: theirs weigh that much).
        ``own``: :meth:`_own_target_rows` already built (not built again)."""
        rows_of = own if own is not None else self._own_target_rows(teacher_out, bow)
        if neighbours is None:
            return rows_of
        return pooled_rows(rows_of, neighbours, self._as_resolved("neighbour_weight"))

    def _own_target_rows(self, teacher_out, bow):
        if self.target == "bow":
            normalise = self.loss == "kl"
            return lambda rows: bow_targets(bow[rows], normalise=normalise)
        offset = None
        if self.calibration == "corpus":
            offset = corpus_logit_mean(teacher_out.read("logits", r) for r in row_chunks(len(teacher_out)))
        tau, w = self.temperature, self._as_resolved("bow_weight")
        bow = bow if w else None
        return lambda rows: soft_targets(teacher_out.read("logits", rows), tau, offset,
                                         None if bow is None else bow[rows], w)

    def _inputs(self, documents: Sequence[str], teacher_out, fit: bool = False, token_lists=None) -> np.ndarray:
        """The student's input rows of every document, in one array; with ``standardize_input`` z-scored by the
        training statistics."""
        return self._input_rows(documents, teacher_out, fit, self._input_bow(documents, token_lists, fit))(slice(None))

    def _targets(self, teacher_out, token_lists) -> np.ndarray:
        """Every document's own training target (no neighbours pooled), in one array."""
        bow = self._bow(token_lists) if self._target_reads_bow() else None
        n = bow.shape[0] if self.target == "bow" else len(teacher_out)
        return self._target_rows(teacher_out, bow)(np.arange(n))

    def _source(self, documents: Sequence[str], teacher_out, bow, fit: bool, device) -> BatchSource:
        """Where training (``fit``: inputs and targets) or inference (inputs) reads its rows.

        The rows are computed per batch from the teacher outputs by the functions above. When the teacher outputs
        are in memory and the rows fit in :func:`memory_budget`, every row is computed once up front (today's
        speed); otherwise each batch is computed when it is drawn (teacher outputs streamed from the cache).
        Either way a batch holds the same float32 values, so the fit is the same. ``bow``: the documents' bag of
        words from :meth:`_input_bow` (built once, for the input and the target alike), or None.
        """
        n = len(documents)
        pooled = fit and self.target_neighbours_ > 0
        reads_embeddings = self._fit_reads_embeddings() if fit else self.input_ in EMBEDDING_INPUTS
        embeddings = self._embeddings(documents) if reads_embeddings else None  # once, for input and neighbours
        inputs = self._input_rows(documents, teacher_out, fit, bow, embeddings)
        own = self._own_target_rows(teacher_out, bow) if fit else None
        space = self.neighbour_space_
        neighbours = (neighbour_index(neighbour_vectors(space, embeddings, own, n), self.target_neighbours_, self.seed,
                                      neighbour_block(space, len(self.vocabulary_)), device, n) if pooled else None)
        targets = self._target_rows(teacher_out, bow, neighbours, own) if fit else None
        source = RowSource(n, inputs, targets, device)
        if teacher_out is not None and not getattr(teacher_out, "in_memory", True):
            return source
        width = inputs(np.arange(1)).shape[1] + (len(self.vocabulary_) if fit else 0)
        return source.materialize() if 4 * n * width <= memory_budget() else source

    def _needs_teacher(self, fit: bool = True) -> bool:
        """Whether a fit (or, with ``fit=False``, this fitted model's inference) reads teacher outputs."""
        return self.input_ != "embeddings" or (fit and self.target == "soft")

    def _generator(self, device: str | torch.device = "cpu") -> torch.Generator:
        """A private generator seeded with ``seed`` (fresh random seed when None): batch order (CPU), inference
        (on the network's device: a CUDA tensor needs a CUDA generator)."""
        return seeding.generator(self.seed, device)

    def _seeded_global_torch(self, device: str):
        """Network initialisation and dropout draw from torch's global generator: seed it for training only,
        inside ``fork_rng``, so that the caller's global random state is left as it was."""
        return seeding.seeded_torch(self.seed, device)

    def _check_teacher_out(self, teacher_out, n_documents: int) -> None:
        if teacher_out is None:
            return
        rows = len(teacher_out)
        if rows != n_documents:
            raise ValueError(f"teacher_out has {rows} rows but there are {n_documents} documents; pass the outputs "
                             "of exactly these documents")
        if self.target == "soft" and teacher_out.width("logits") != len(self.vocabulary_):
            raise ValueError(f"teacher_out.logits has {teacher_out.width('logits')} columns but the vocabulary has "
                             f"{len(self.vocabulary_)} words")

    def _theta(self, x: BatchSource | np.ndarray, num_samples: int | None = None) -> np.ndarray:
        """theta of the input rows ``x`` (a batch source, or an array of inputs)."""
        dev = next(self.network_.parameters()).device
        if not isinstance(x, BatchSource):
            x = torch.from_numpy(np.asarray(x, dtype=np.float32)).to(dev)
        return infer_theta(self.network_, x, num_samples or self.num_samples, self._generator(dev),
                           estimate=self.theta_estimate)

    def theta_from_hidden(self, hidden: np.ndarray, num_samples: int | None = None) -> np.ndarray:
        """Document-topic proportions from the documents' LM hidden states (the teacher's ``hidden`` rows, e.g.
        :class:`~dsl_plugin.bertopic.DSLBackend` embeddings), with no LM pass; only for a model whose student reads
        the LM state alone (``input_ == "lm"``: ``input="lm"``, or ``"auto"`` fitted on short documents).

        ``num_samples`` overrides the model's for ``theta_estimate="samples"``."""
        self._check_fitted()
        if self.input_ != "lm":
            raise ValueError(f"theta_from_hidden needs a DSL whose student reads the LM hidden states alone; this one "
                             f"reads input_={self.input_!r} (input={self.input!r}): fit it with input='lm'")
        x = np.asarray(hidden, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.input_size_:
            raise ValueError(f"hidden has shape {x.shape}; this DSL expects (N, {self.input_size_})")
        return self._theta(self._standardized(x), num_samples)

    # ------------------------------------------------------------------ core API
    def fit(self, documents: Sequence[str], vocabulary: Sequence[str] | None = None, vocabulary_size: int = 2000,
            token_lists: Sequence[Sequence[str]] | None = None) -> "DSL":
        """Fit on raw documents.

        Args:
            documents: raw texts (fed to the LM): a list, tuple, numpy array or pandas Series (read by
                position; the index is ignored).
            vocabulary: topic vocabulary; built from ``documents`` when None.
            vocabulary_size: |V| when the vocabulary is built.
            token_lists: preprocessed tokens per document (only needed for ``target="bow"``, ``bow_weight > 0`` or
                ``input="lm+bow"``; computed with :func:`dsl_plugin.data.tokenize` when None, as they are read: the
                token lists of a large corpus are never all held in memory).

        Teacher outputs that do not fit in :func:`memory_budget` are read from the teacher cache batch by batch
        (see docs/scale.md, "Streaming training"); the fit is the same. A fit that raises or is interrupted leaves a
        fitted model as it was.
        """
        documents = as_documents(documents)
        _check_token_lists(token_lists, documents)
        _check_texts(documents, None)
        with self._unchanged_on_failure():
            self.vocabulary_ = (check_vocabulary(vocabulary) if vocabulary is not None
                                else build_vocabulary(TokenizedTexts(documents), vocabulary_size))
            self._fit_arrays(documents, token_lists if token_lists is not None else TokenizedTexts(documents))
        return self

    @contextlib.contextmanager
    def _unchanged_on_failure(self):
        """A fit (or ``train_model``) that raises, or is interrupted, leaves the model as it was: a refit whose
        teacher pass fails never leaves a new vocabulary or new resolved settings on the old network."""
        before = dict(self.__dict__, hyperparameters=dict(self.hyperparameters))
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_arrays(self, documents: list[str], token_lists, teacher_out=None, bow=None) -> None:
        """Fit on ``documents`` (``token_lists``: theirs). ``teacher_out``: their teacher outputs, computed here when
        None. ``bow``: their bag of words from ``_input_bow(..., fit=True)`` when the caller resolved the settings
        already (``train_model``), else built here; either way before the teacher pass, which reads
        ``max_doc_tokens_``."""
        for name in _INPUT_STAT_NAMES:  # refitted below when this fit's settings use them
            self.__dict__.pop(name, None)
        if bow is None:
            bow = self._input_bow(documents, token_lists, fit=True)  # resolves the "auto" settings
        if teacher_out is None and self._needs_teacher():
            teacher_out = self._teacher_outputs(documents, self.vocabulary_)
        self._check_teacher_out(teacher_out, len(documents))
        dev = resolve_device(self.device)
        source = self._source(documents, teacher_out, bow, fit=True, device=dev)
        input_size = int(source.inputs(slice(0, 1)).shape[1])
        word_vectors = self._word_vectors(token_lists) if self.backbone in WORD_VECTOR_BACKBONES else None
        settings = {name: getattr(self, name + "_" if name in _RESOLVED else name) for name in _NETWORK_PARAMS}
        with self._seeded_global_torch(dev):
            self.network_ = self._network(input_size, word_vectors, settings).to(dev)
            # FASTopic's documents -> topics transport couples a batch's documents: it trains on all at once
            cfg = TrainConfig(batch_size=len(source) if self.network_.full_batch else self.batch_size,
                              num_epochs=self.num_epochs_, lr=self.lr, betas=tuple(self.betas),
                              lr_scheduler=self.lr_scheduler, weight=self._weight(), loss=self.loss,
                              kl_direction=self.kl_direction, student_temperature=self._student_temperature(),
                              diversity_weight=self.diversity_weight_, show_progress=self.verbose)
            self.loss_history_ = train_network(self.network_, source, cfg=cfg, generator=self._generator())
            if self.network_.full_batch:  # it keeps state of the training documents (all in memory already)
                self.network_.prepare_inference(source.inputs(slice(0, len(source))))
        self.input_size_ = input_size
        self.network_settings_ = settings
        self.word_dim_ = None if word_vectors is None else int(word_vectors.shape[1])
        source = source.without_targets()  # inference reads the inputs only: the targets (bag of words) are freed
        self.document_topic_ = self._theta(source)

    def _network(self, input_size: int, word_vectors: np.ndarray | None, settings: dict[str, Any]):
        """A fresh (untrained) student network built by ``settings`` (a value for each of ``_NETWORK_PARAMS``)."""
        return build_backbone(settings["backbone"], input_size, len(self.vocabulary_), settings["num_topics"],
                              tuple(settings["hidden_sizes"]), settings["activation"], settings["dropout"],
                              settings["learn_priors"], word_vectors, settings["theta_temperature"])

    def _word_vectors(self, token_lists) -> np.ndarray:
        """Word vectors of the vocabulary for the ETM / ECRTM backbones (V x D), from ``word_embeddings``: skip-gram
        word2vec trained on the training documents' tokens (seed 0 whatever ``seed``, like pre-trained vectors;
        cached under ``cache_dir/embeddings``), or the teacher LM's input embeddings (an ensemble's concatenated).
        Rescaled to unit length on average. No LM forward pass either way."""
        if self.word_embeddings == "word2vec":
            from .embeddings import corpus_word2vec, word2vec_matrix

            root = self.cache_dir if self.cache_dir is not None else default_cache_dir()
            path, _ = corpus_word2vec([list(t) for t in token_lists], root)
            vectors, missing = word2vec_matrix(path, self.vocabulary_)
            if missing:
                logger.info("%d vocabulary word(s) do not occur in the training documents: random word2vec vectors",
                            missing)
        else:
            vectors = np.concatenate([t.input_word_embeddings(self.vocabulary_) for t in self._teachers()], axis=1)
        norms = np.linalg.norm(vectors, axis=1)
        return (vectors / max(float(norms.mean()), 1e-12)).astype(np.float32)

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise RuntimeError("this DSL model is not fitted yet: call fit() or train_model() first")

    def transform(self, documents: Sequence[str], teacher_out=None,
                  token_lists: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Document-topic proportions (N x K) for new documents (teacher outputs come from the cache).

        theta follows ``theta_estimate`` (dropout is off at inference): the softmax of the posterior mean (the
        default; deterministic, so ``transform`` of the training documents equals ``document_topic_``), or the
        mean of ``num_samples`` posterior samples (softmax of mu + eps * sigma) drawn from a generator seeded with
        ``seed``: with a seed repeated calls agree, with ``seed=None`` every call is a new Monte Carlo estimate.

        Args:
            documents: a list of strings (a pandas Series is read by position; a single string is refused).
            teacher_out: precomputed teacher outputs for exactly these documents (same rows, same order): a
                :class:`TeacherOutputs`, or :class:`~dsl_plugin.teacher.CachedTeacherOutputs` (read batch by batch).
            token_lists: preprocessed tokens per document, for ``input="lm+bow"`` only (tokenised from
                ``documents`` with :func:`dsl_plugin.data.tokenize` when None).

        Like :meth:`fit`, inference streams the teacher outputs from the cache when they exceed
        :func:`memory_budget`.
        """
        self._check_fitted()
        documents = as_documents(documents)
        if len(documents) == 0:
            raise ValueError("empty corpus: no documents were given")
        if teacher_out is None and self._needs_teacher(fit=False):
            teacher_out = self._teacher_outputs(documents, self.vocabulary_)
        self._check_teacher_out(teacher_out, len(documents))
        _check_token_lists(token_lists, documents)
        source = self._source(documents, teacher_out, self._input_bow(documents, token_lists, fit=False), fit=False,
                              device=next(self.network_.parameters()).device)
        width = int(source.inputs(slice(0, 1)).shape[1])
        if width != self.input_size_:
            raise ValueError(f"input size {width} does not match the fitted model's {self.input_size_}")
        return self._theta(source)

    def fit_transform(self, documents: Sequence[str], **kwargs) -> np.ndarray:
        """:meth:`fit` then return the training documents' topic proportions."""
        return self.fit(documents, **kwargs).document_topic_

    @property
    def topic_word_matrix_(self) -> np.ndarray:
        """Topic-word matrix beta (K x |V|): the decoder weights for the ProdLDA backbone (as OCTIS's ProdLDA reports
        them), the topics' word distributions for ETM and FASTopic, the embedding softmax over topics for ECRTM."""
        self._check_fitted()
        return self.network_.beta.detach().cpu().numpy()

    def get_topics(self, top_n: int = 10) -> list[list[str]]:
        """Top ``top_n`` words of each topic."""
        beta = self.topic_word_matrix_
        top = np.argsort(-beta, axis=1)[:, :top_n]
        return [[self.vocabulary_[j] for j in row] for row in top]

    def plot_topics(self, path: str | os.PathLike | None = None, top_n: int = 10, max_topics: int = 12,
                    topics: Sequence[int] | None = None):
        """Bar charts of the topics' top words (largest topics of the training documents first), through
        :func:`dsl_plugin.plots.topic_words`; saved to ``path`` when given. Returns the matplotlib ``Figure``.
        :func:`dsl_plugin.plots.document_topics` draws ``document_topic_`` (topic sizes + heatmap)."""
        from .plots import topic_words

        return topic_words(self.topic_word_matrix_, self.vocabulary_, top_n=top_n, max_topics=max_topics,
                           theta=getattr(self, "document_topic_", None), topics=topics,
                           title=f"DSL ({self.language_model}), K={self.network_settings_['num_topics']}", path=path)

    # ------------------------------------------------------------------ OCTIS API
    def train_model(self, dataset, hyperparameters: dict | None = None, top_words: int = 10) -> dict:
        """OCTIS entry point: fit on an OCTIS ``Dataset`` and return the model output dictionary.

        Raw text comes from ``dataset.get_raw_corpus()`` (see :func:`dsl_plugin.load_dataset`) or from
        ``raw_documents.jsonl`` next to ``dataset.dataset_path``, put in OCTIS's row order
        (:func:`dsl_plugin.octis_io.raw_corpus`); otherwise the joined tokens are used, with a warning. A call that
        raises or is interrupted leaves the model (its hyper-parameters too) as it was.
        """
        with self._unchanged_on_failure():
            return self._train_model(dataset, hyperparameters, top_words)

    def _train_model(self, dataset, hyperparameters: dict | None, top_words: int) -> dict:
        if hyperparameters:
            self.set_hyperparameters(**dict(hyperparameters))
        vocabulary = list(dataset.get_vocabulary() or [])
        corpus = dataset.get_corpus()
        if not corpus:
            raise ValueError("empty corpus: the OCTIS dataset has no documents")
        if not vocabulary:
            raise ValueError("the OCTIS dataset has no vocabulary")
        from .octis_io import raw_corpus  # an OCTIS dataset: OCTIS is installed

        raw = raw_corpus(dataset)
        self.vocabulary_ = vocabulary
        meta = dataset.get_metadata() or {}
        n = len(corpus)
        if self.use_partitions:
            n_train = int(meta.get("last-training-doc", n))
            n_test_start = int(meta.get("last-validation-doc", n_train))
            train_idx, test_idx = np.arange(n_train), np.arange(n_test_start, n)
        else:
            train_idx, test_idx = np.arange(n), np.arange(0)
        train_raw, train_tokens = [raw[i] for i in train_idx], [corpus[i] for i in train_idx]
        bow = self._input_bow(train_raw, train_tokens, fit=True)  # the "auto" settings, before the teacher reads
        # one teacher pass (one cache entry) over every document, train and test together, then sliced
        out = self._teacher_outputs(raw, vocabulary) if self._needs_teacher() else None
        self._fit_arrays(train_raw, train_tokens, _take(out, train_idx), bow)
        result = {"topics": self.get_topics(top_words), "topic-word-matrix": self.topic_word_matrix_,
                  "topic-document-matrix": self.document_topic_.T}
        if len(test_idx):
            result["test-topic-document-matrix"] = self.transform([raw[i] for i in test_idx], _take(out, test_idx),
                                                                  [corpus[i] for i in test_idx]).T
        return result

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save to a folder: ``model.safetensors`` (network) + ``config.json`` (params, vocabulary). No pickle.

        Atomic: the files are written to a temporary sibling folder, which is then renamed to ``path``, so a
        failed or interrupted save leaves an existing model at ``path`` as it was. ``path`` must be missing,
        empty or a saved DSL model (any other folder is refused). The weights record the vocabulary's
        checksum, so :meth:`load` detects weights and vocabulary that do not belong together. ``cache_dir``
        and ``embedding_model`` are not saved; whether the student read the packaged MiniLM or an encoder of yours
        is (``"embedder"``), so that loading a model of a custom encoder without it is refused rather than fed
        another encoder's embeddings, and which one found the neighbours of pooled targets
        (``"neighbours_embedder"``: training only, not needed to load). Files get the usual modes (0644 under
        umask 022).
        """
        from safetensors.torch import save as safetensors_bytes

        self._check_fitted()
        params = _json_safe({k: v for k, v in self.get_params().items() if k not in _NOT_SAVED})
        config = json.dumps({"format": MODEL_FORMAT, "params": params, "vocabulary": self.vocabulary_,
                             "input_size": self.input_size_, "word_dim": getattr(self, "word_dim_", None),
                             "resolved": self.resolved_,
                             "embedder": self._embedder_kind(self.input_ in EMBEDDING_INPUTS),
                             "neighbours_embedder": getattr(self, "neighbours_embedder_", None),
                             "network": _json_safe(self.network_settings_)},
                            indent=1)  # before anything is written
        state = {k: v.detach().cpu().contiguous() for k, v in self.network_.state_dict().items()}
        state.update({_INPUT_STATS + k: torch.from_numpy(getattr(self, k)) for k in _INPUT_STAT_NAMES
                      if getattr(self, k, None) is not None})
        weights = safetensors_bytes(state, metadata={"format": str(MODEL_FORMAT),
                                                     "vocabulary_sha256": hash_documents(self.vocabulary_)})

        def fill(folder: Path) -> None:
            (folder / "model.safetensors").write_bytes(weights)
            (folder / "config.json").write_text(config, encoding="utf-8")

        return atomic_write_folder(path, fill, replaceable=_is_saved_model)

    @staticmethod
    def check_save_path(path: str | os.PathLike) -> Path:
        """Raise now (e.g. before a long fit) if :meth:`save` could not write ``path``; see
        :func:`dsl_plugin.fileio.check_folder_target`."""
        return check_folder_target(path, replaceable=_is_saved_model)

    @classmethod
    def load(cls, path: str | os.PathLike, **overrides) -> "DSL":
        """Load a model saved by :meth:`save` (``overrides`` e.g. ``device``, ``embedding_model``, ``cache_dir``).

        Raises:
            FileNotFoundError: a file is missing.
            ValueError: unreadable config, unknown format, invalid parameters, or weights saved with another
                vocabulary than ``config.json``'s.
        """
        from safetensors import safe_open

        config_file, weights_file = Path(path) / "config.json", Path(path) / "model.safetensors"
        for f in (config_file, weights_file):
            if not f.exists():
                raise FileNotFoundError(f"{f} not found: not a saved DSL model")
        config = read_json_object(config_file)
        fmt = config.get("format")
        if fmt not in range(1, MODEL_FORMAT + 1):
            raise ValueError(f"{config_file} has format {fmt!r}; this version of dsl_plugin reads formats 1 to "
                             f"{MODEL_FORMAT}")
        params, vocabulary = config.get("params"), config.get("vocabulary")
        if (not isinstance(params, dict) or not isinstance(config.get("input_size"), int) or not isinstance(vocabulary, list)
                or not all(isinstance(w, str) for w in vocabulary) or len(set(vocabulary)) != len(vocabulary)):
            raise ValueError(f"{config_file} is not a DSL model config (needs params, input_size and a vocabulary "
                             "of distinct words)")
        try:
            with safe_open(str(weights_file), framework="pt") as f:
                metadata = f.metadata() or {}
                state = {k: f.get_tensor(k) for k in f.keys()}
        except Exception as e:  # safetensors raises its own error types
            raise ValueError(f"{weights_file} cannot be read: {e}") from e
        if fmt >= 2 and metadata.get("vocabulary_sha256") != hash_documents(vocabulary):
            raise ValueError(f"{weights_file} and {config_file} do not belong together: the weights were saved with "
                             "another vocabulary (checksum differs); the folder was changed after saving")
        params = {**PARAMS_ADDED_LATER, **params}
        params = in_todays_meaning(params, fmt)
        if "center_logits" in params:  # saved before calibration replaced it
            params["calibration"] = "corpus" if params.pop("center_logits") else None
        saved = {k: v for k, v in params.items() if k not in _NOT_SAVED}
        model = cls(**{**saved, **overrides})
        # what it trained with, for saves that do not say it under "resolved": the saved params, not the overrides
        as_saved = cls(**saved) if overrides else model
        model.vocabulary_ = vocabulary
        model.input_size_ = config["input_size"]
        embedder = config.get("embedder")  # None: saved before 0.7.0 (not recorded)
        if isinstance(embedder, str) and embedder.startswith("custom") and overrides.get("embedding_model") is None:
            raise ValueError(f"{config_file}: this model's student read the sentence embeddings of your own "
                             f"encoder ({embedder}); pass it: DSL.load(path, embedding_model=...) (without it the "
                             "packaged MiniLM would be used, whose embeddings the network was not trained on)")
        # what the fit resolved; a save from before a setting was resolved holds it in its params (a parameter added
        # later: PARAMS_ADDED_LATER's value, in its params here; saves before input="auto" say what the student read)
        # (their input was explicit, under which standardize_input="auto" is False)
        resolved = config.get("resolved") or {"input": as_saved.input,
                                               "standardize_input": as_saved.standardize_input is True}
        # None: no encoder found the neighbours (none pooled, or by the targets), or saved before 0.11 (not recorded)
        model.neighbours_embedder_ = config.get("neighbours_embedder")
        # checked as a construction checks them (_PARAMS), and resolved: no "auto", a diversity weight (not None);
        # theta_temperature, saved with the network too, is checked with it below
        read = {name: resolved.get(name, as_saved._diversity_weight() if name == "diversity_weight"
                                    else getattr(as_saved, name))
                for name in _RESOLVED if name != "theta_temperature"}
        try:
            checked = validate(_PARAMS, read, "DSL")
            unresolved = [f"{name} {value!r}" for name, value in checked.items()
                          if value == "auto" or (name == "diversity_weight" and value is None)]
            if unresolved:
                raise ValueError(f"not resolved: {', '.join(unresolved)}")
        except ValueError as e:
            raise ValueError(f"{config_file} does not say what the student and teacher read and how long the "
                             f"student trained (resolved {read}): {e}") from e
        for name, value in checked.items():
            setattr(model, name + "_", value)
        # the network as fitted (saves before 0.9 hold no "network": their params)
        network = (config["network"] if "network" in config
                   else {name: getattr(as_saved, name) for name in _NETWORK_PARAMS})
        if not isinstance(network, dict) or set(network) != set(_NETWORK_PARAMS):
            raise ValueError(f"{config_file}: 'network' must give {', '.join(_NETWORK_PARAMS)}")
        try:
            network = validate(_PARAMS, network, "DSL")
        except ValueError as e:
            raise ValueError(f"{config_file} 'network': {e}") from e
        # theta_temperature is resolved at fit since 0.10 and saved twice (saves before it: the number in their params)
        saved_t = resolved.get("theta_temperature", network["theta_temperature"])
        if "auto" in network.values() or type(saved_t) not in (int, float) or saved_t != network["theta_temperature"]:
            raise ValueError(f"{config_file}: 'network' must give the values the network was built with (not "
                             f"'auto'), its theta_temperature the resolved one ({saved_t!r}): {network}")
        # a load override of a network setting builds another network, which is then what the model is and infers
        # with (theta_temperature_ included); an "auto" override sets the param only, for a refit
        model.network_settings_ = {**network, **{k: getattr(model, k) for k in overrides  # (the checked values)
                                                 if k in _NETWORK_PARAMS and getattr(model, k) != "auto"}}
        model.theta_temperature_ = model.network_settings_["theta_temperature"]
        backbone = model.network_settings_["backbone"]
        model.word_dim_ = config.get("word_dim")  # the ETM / ECRTM backbones' word vectors (in the weights)
        if backbone in WORD_VECTOR_BACKBONES and not isinstance(model.word_dim_, int):
            raise ValueError(f"{config_file} has no word_dim, which the {backbone} backbone needs")
        net = model._network(model.input_size_, None if model.word_dim_ is None
                             else np.zeros((len(vocabulary), model.word_dim_), dtype=np.float32),
                             model.network_settings_)
        for k in _INPUT_STAT_NAMES:
            if _INPUT_STATS + k in state:
                setattr(model, k, state.pop(_INPUT_STATS + k).numpy())
        try:
            net.load_state_dict(state)
        except RuntimeError as e:  # e.g. a "network" edited after the save: other shapes than the weights'
            raise ValueError(f"{weights_file} does not fit the network {config_file} describes: {e}") from e
        model.network_ = net.to(resolve_device(model.device)).eval()
        return model


def in_todays_meaning(params: dict[str, Any], fmt: int) -> dict[str, Any]:
    """Parameters saved in format ``fmt`` (``MODEL_FORMAT`` of their save, or of the settings of a benchmark record)
    as today's parameters that train the same: every change of meaning (:data:`PARAMS_CHANGED_LATER`) that came
    with a later format applied."""
    changed = {name: now for name, (since, before, now) in PARAMS_CHANGED_LATER.items()
               if fmt < since and name in params and type(params[name]) is type(before) and params[name] == before}
    return {**params, **changed}


def _json_safe(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as JSON writes them back (tuples as lists)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}


def _is_saved_model(folder: Path) -> bool:
    return (folder / "config.json").exists()


def _take(out, idx: np.ndarray):
    if out is None or len(idx) == len(out):
        return out
    return out.take(idx)


#: environment variable of :func:`memory_budget`
MEMORY_BUDGET_ENV = "DSL_PLUGIN_MEMORY_BUDGET"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """Bytes of teacher outputs and training rows that a fit or transform may hold in memory.

    Beyond it, :class:`DSL` leaves the teacher outputs in the teacher cache and reads them batch by batch
    (streaming training and inference: same results, memory independent of the number of documents). Set with
    ``$DSL_PLUGIN_MEMORY_BUDGET``, in bytes or with a unit (``"500M"``, ``"8G"``; ``"0"``: always stream from the
    cache); default: a quarter of the physical memory.
    """
    value = os.environ.get(MEMORY_BUDGET_ENV, "").strip().upper().removesuffix("B").removesuffix("I")
    if value:
        unit = value[-1] if value[-1] in _UNITS else ""
        try:
            return int(float(value[:len(value) - len(unit)]) * _UNITS[unit])
        except ValueError:
            raise ValueError(f"{MEMORY_BUDGET_ENV}={os.environ[MEMORY_BUDGET_ENV]!r} is not a size "
                             "(bytes, or a number with K, M, G or T)") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return 4 * 2**30


def _in_memory_bytes(n: int, n_words: int, hidden: int, n_members: int) -> int:
    """What a fit holds with its teacher outputs in memory: the members' logits and hidden states, the combined
    logits, the targets and the (standardised) inputs, float32."""
    return 4 * n * ((n_members + 1) * n_words + 2 * hidden)


class _CombinedOutputs:
    """The teacher outputs DSL trains on, combined row by row from its members' outputs (each in memory or
    :class:`~dsl_plugin.teacher.CachedTeacherOutputs`): contextual offsets subtracted, an ensemble's
    log-probabilities averaged and hidden states concatenated. The same float32 operations on any set of rows."""

    def __init__(self, members: list, offsets: list[np.ndarray | None]):
        self.members, self.offsets = members, offsets
        self.n_computed = sum(getattr(m, "n_computed", 0) for m in members)
        self.cache_path = getattr(members[0], "cache_path", None)
        self.in_memory = all(getattr(m, "in_memory", True) for m in members)

    def __len__(self) -> int:
        return len(self.members[0])

    def width(self, which: str) -> int:
        if which == "logits":
            return self.members[0].width("logits")
        return sum(m.width("hidden") for m in self.members)

    def read(self, which: str, rows) -> np.ndarray:
        if which == "hidden":
            parts = [m.read("hidden", rows) for m in self.members]
            return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        logits = [m.read("logits", rows) if off is None else m.read("logits", rows) - off
                  for m, off in zip(self.members, self.offsets)]
        if len(logits) == 1:
            return logits[0]
        return np.mean([lg - _logsumexp(lg) for lg in logits], axis=0).astype(np.float32)

    def take(self, idx) -> "_CombinedOutputs":
        return _CombinedOutputs([m.take(idx) for m in self.members], self.offsets)

    def to_memory(self) -> TeacherOutputs:
        members = [m.to_memory() for m in self.members]
        if len(members) == 1 and self.offsets[0] is None:
            return members[0]
        both = _CombinedOutputs(members, self.offsets)
        return TeacherOutputs(both.read("logits", slice(None)), both.read("hidden", slice(None)), self.n_computed,
                              self.cache_path)


def _teacher_configs(params: dict, auto_tokens: int) -> list[TeacherConfig]:
    """The TeacherConfig of each ensemble member, from DSL's teacher parameters (validated here);
    ``max_doc_tokens="auto"`` reads as ``auto_tokens``."""
    fields = {field: params[name] for name, field in _TEACHER_PARAMS.items()}
    if fields["max_doc_tokens"] == "auto":
        fields["max_doc_tokens"] = auto_tokens
    model = fields.pop("model")
    models = [m.strip() for m in model.split(ENSEMBLE_SEPARATOR)] if isinstance(model, str) else [model]
    if len(models) != len(set(models)):
        raise ValueError(f"language_model lists a model twice: {params['language_model']!r}")
    return [TeacherConfig(model=m, **fields) for m in models]


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    from scipy.special import logsumexp

    return logsumexp(logits, axis=1, keepdims=True)
