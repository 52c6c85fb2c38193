"""What DSL's ``"auto"`` settings become: the kinds of training corpus they read (long or short documents, token
lists or text, whether the sentence encoder knows the words) and the rule of each setting.

The one place a quality-study round changes when it adopts a lever (each constant names the round that chose it);
:class:`~dsl_plugin.model.DSL` resolves its settings with :func:`resolve` at fit (and in ``resolved_for``) and stores
them with a trailing underscore. The constants are also importable from :mod:`dsl_plugin.model`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .data import _by_position, _check_token_lists, bag_of_words, check_vocabulary
from .student import check_theta_temperature, resolve_diversity_weight
from .teacher import TeacherConfig

#: ``input="auto"``: a training corpus whose documents hold at least this many vocabulary words on average is *long*,
#: and the student then reads the MiniLM sentence embedding next to the LM state (quality study, round 4), or alone
#: when the documents are token lists (round 10)
LONG_DOCUMENT_WORDS = 32
#: ``max_doc_tokens="auto"``: the LM tokens the teacher reads of each document of a long training corpus (quality
#: study, round 5); a short corpus's documents are read up to TeacherConfig's default (128)
LONG_DOCUMENT_TOKENS = 256
#: ``bow_weight="auto"`` and ``input="auto"``: a training corpus is a *token-list corpus* (an OCTIS folder without raw
#: text: the LM reads joined keywords) when at least this share of its documents are exactly their token lists joined
#: by single spaces
TOKEN_LIST_SHARE = 0.95
#: at most this many training documents (evenly spaced) are compared for it
TOKEN_LIST_SAMPLE = 10_000
#: ``bow_weight="auto"``: the bag of words' share of the target for raw text, and for a token-list corpus (quality
#: study, round 9: .5 gained on the 20 Newsgroups token lists at K 25 and 50; raw text keeps round 1's .3)
TEXT_BOW_WEIGHT, TOKEN_LIST_BOW_WEIGHT = 0.3, 0.5
#: ``neighbour_space="auto"``: where the neighbours of pooled targets are found for a corpus of long token lists on the
#: ProdLDA backbone with ``target_neighbours="auto"``: by the sentence encoder and the own targets side by side, 20 of
#: them (quality study round 22, which measured the two together: chosen on debian-4k-tokens, no harm on the 20
#: Newsgroups token copy, confirmed on BBC News); every other corpus, backbone or number of neighbours: by the encoder
#: (as before 0.16)
LONG_TOKEN_LIST_NEIGHBOUR_SPACE = "both"
#: ``target_neighbours="auto"``: the neighbours whose targets each document's target is pooled with, for a corpus of
#: long token lists (every target weighing the same), by where they are found (the resolved ``neighbour_space``): 5 by
#: the encoder (quality study round 14, chosen on the 20 Newsgroups token copy; also by the targets alone, which the
#: probes of 2026-12-05 ran with 5), 20 by both (round 22)
LONG_TOKEN_LIST_NEIGHBOURS = {"encoder": 5, "targets": 5, "both": 20}
#: ``target_neighbours="auto"`` and ``neighbour_weight="auto"`` for every other corpus (short token lists, short or
#: long raw text) that the sentence encoder reads as words (at least ``ENCODER_MIN_WORD_SHARE`` of its word
#: occurrences are one token of its vocabulary: :func:`~dsl_plugin.embeddings.whole_word_share`): 15 neighbours, whose
#: mean weighs .75 of each target (quality study rounds 16 and 17 for short token lists: every English set gained;
#: DBPedia_IT, Italian, which the packaged English MiniLM reads as word pieces, lost, and keeps 0; round 18 for short
#: raw text; round 20 for long raw text)
DEFAULT_NEIGHBOURS, DEFAULT_NEIGHBOUR_WEIGHT = 15, 0.75
ENCODER_MIN_WORD_SHARE = 0.5
#: ``theta_temperature="auto"``: ProdLDA's softmax temperature of theta for a corpus of long token lists (quality study
#: round 15, chosen on the 20 Newsgroups token copy over pooled targets); other corpora and backbones: 1 (ProdLDA)
LONG_TOKEN_LIST_THETA_TEMPERATURE = 1.3
#: ``num_epochs="auto"``: ProdLDA's training epochs for a corpus of long token lists (quality study round 19, chosen on
#: the 20 Newsgroups token copy); other corpora and backbones: ``DEFAULT_EPOCHS`` (ProdLDA's and the paper's)
LONG_TOKEN_LIST_EPOCHS, DEFAULT_EPOCHS = 200, 100
#: the "auto" settings resolved by the training documents' length (:func:`is_long_corpus`) and by whether they are
#: token lists (:func:`is_token_list_corpus`); those of ``PRODLDA_ONLY_AUTO`` only on ProdLDA (other backbones take
#: the encoder's neighbours, 1 and ``DEFAULT_EPOCHS``)
BY_LENGTH = ("input", "max_doc_tokens", "target_neighbours", "neighbour_weight", "neighbour_space", "theta_temperature",
             "num_epochs")
BY_FORM = ("input", "bow_weight", "target_neighbours", "neighbour_weight", "neighbour_space", "theta_temperature",
           "num_epochs")
#: the "auto" settings that only the ProdLDA backbone resolves by the documents (other backbones: a fixed value)
PRODLDA_ONLY_AUTO = ("neighbour_space", "theta_temperature", "num_epochs")


def mean_words(bow) -> float:
    """Mean number of vocabulary words per document of ``bow`` (a bag of words, documents x vocabulary)."""
    return float(bow.sum()) / max(bow.shape[0], 1)


def is_token_list_corpus(documents: Sequence[str], token_lists: Sequence[Sequence[str]],
                         vocabulary: Sequence[str] | None = None) -> bool:
    """Whether DSL's ``"auto"`` settings treat these training documents as token lists (an OCTIS folder without raw
    text, whose documents the LM reads as joined keywords): at least ``TOKEN_LIST_SHARE`` of them are exactly their
    token lists joined by single spaces, or (``vocabulary`` given) are words of the vocabulary joined by single spaces,
    as an OCTIS folder's documents are (so that ``fit`` on the joined lists without ``token_lists``, tokenised by
    another tokenizer than the folder's, still counts). At most ``TOKEN_LIST_SAMPLE`` documents, evenly spaced, are
    compared (both read by position)."""
    documents, token_lists = _by_position(documents, "documents"), _by_position(token_lists, "token_lists")
    _check_token_lists(token_lists, documents)
    n = len(documents)
    if n == 0:
        return False
    words = frozenset(vocabulary) if vocabulary is not None else frozenset()

    def joined(doc: str, tokens) -> bool:
        return doc == " ".join(tokens) or (bool(words) and doc == " ".join(split := doc.split())
                                           and all(w in words for w in split))

    rows = np.unique(np.linspace(0, n - 1, min(n, TOKEN_LIST_SAMPLE)).astype(np.int64))
    return sum(joined(documents[i], token_lists[i]) for i in rows) >= TOKEN_LIST_SHARE * len(rows)


def is_long_corpus(token_lists: Sequence[Sequence[str]], vocabulary: Sequence[str]) -> bool:
    """Whether DSL's ``"auto"`` settings that read the documents' length (``BY_LENGTH``) treat these training
    documents (their token lists) as long: at least ``LONG_DOCUMENT_WORDS`` words of ``vocabulary`` per document on
    average."""
    return is_long(bag_of_words(token_lists, check_vocabulary(vocabulary)))


def is_long(bow) -> bool:
    """Whether the documents of ``bow`` (their bag of words) are long: ``LONG_DOCUMENT_WORDS`` or more vocabulary
    words per document on average."""
    return mean_words(bow) >= LONG_DOCUMENT_WORDS


def standardizes(standardize_input: bool | str, input: str, long: bool) -> bool:
    """Whether a fit standardises the student's input: ``standardize_input`` as given, or for ``"auto"`` where
    ``input="auto"`` chooses the sentence embedding (a ``long`` corpus: it was chosen standardised, quality study
    rounds 4 and 10); an explicit ``input`` is not standardised under ``"auto"``, whatever the corpus."""
    return (input == "auto" and long) if standardize_input == "auto" else standardize_input


def auto_in(params: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The settings of ``names`` (``BY_LENGTH`` or ``BY_FORM``) whose ``"auto"`` the training documents decide, given
    a model's parameters (``PRODLDA_ONLY_AUTO`` only on ProdLDA: other backbones take the encoder's neighbours, 1 and
    ``DEFAULT_EPOCHS`` whatever the documents; ``neighbour_weight="auto"`` only when ``target_neighbours`` is not 0: a
    fit that pools nothing has no weight; ``neighbour_space="auto"`` only with ``target_neighbours="auto"``: a number of
    yours keeps the encoder's neighbours)."""
    return [name for name in names if params[name] == "auto"
            and (name not in PRODLDA_ONLY_AUTO or params["backbone"] == "prodlda")
            and (name != "neighbour_weight" or params["target_neighbours"] != 0)
            and (name != "neighbour_space" or params["target_neighbours"] == "auto")]


def resolve(params: Mapping[str, Any], long: bool, token_list: bool,
            word_share: Callable[[], float | None] | None = None) -> dict[str, Any]:
    """The settings a fit with a model's parameters (``DSL.get_params()``) resolves on a long (or short) training corpus
    of token lists (or of raw text): ``{"input", "standardize_input", "max_doc_tokens", "diversity_weight",
    "bow_weight", "target_neighbours", "neighbour_weight", "neighbour_space", "theta_temperature", "num_epochs"}``, each
    as given or, for ``"auto"`` (``diversity_weight``: None, the backbone's), as its rule chooses. ``word_share``: a
    function that measures how many of the corpus's word occurrences the sentence encoder reads as words
    (``DSL._word_share``; None: it cannot tell), called only where ``target_neighbours="auto"`` reads it (every corpus
    but long token lists), after the settings' own checks.

    Raises:
        ValueError: a theta temperature or duplicate-topic weight the backbone cannot take (before any LM pass).
    """
    auto_input = ("embeddings" if token_list else "lm+embeddings") if long else "lm"
    auto_tokens = LONG_DOCUMENT_TOKENS if long else TeacherConfig.defaults()["max_doc_tokens"]
    auto_bow = TOKEN_LIST_BOW_WEIGHT if token_list else TEXT_BOW_WEIGHT
    long_tokens = long and token_list
    long_prodlda_tokens = long_tokens and params["backbone"] == "prodlda"
    auto_theta_t = LONG_TOKEN_LIST_THETA_TEMPERATURE if long_prodlda_tokens else 1.0
    auto_epochs = LONG_TOKEN_LIST_EPOCHS if long_prodlda_tokens else DEFAULT_EPOCHS

    def given(name: str, auto_value):
        return auto_value if params[name] == "auto" else params[name]
    theta_t = given("theta_temperature", auto_theta_t)
    check_theta_temperature(params["backbone"], theta_t)  # before any LM pass, like diversity_weight
    diversity_weight = resolve_diversity_weight(params["backbone"], params["diversity_weight"])
    # (round 22 chose the space and the number together: a number of yours keeps the encoder's neighbours)
    auto_k = params["target_neighbours"] == "auto"
    space = given("neighbour_space", LONG_TOKEN_LIST_NEIGHBOUR_SPACE if long_prodlda_tokens and auto_k else "encoder")
    if not auto_k:
        neighbours = params["target_neighbours"]
    elif long_tokens:  # long token lists (rounds 14 and 22)
        neighbours = LONG_TOKEN_LIST_NEIGHBOURS[space]
    else:  # short token lists, short or long raw text (rounds 16-18, 20): where the encoder knows their words
        share = word_share() if word_share is not None else None
        known = share is None or share >= ENCODER_MIN_WORD_SHARE
        neighbours = DEFAULT_NEIGHBOURS if known else 0
    # (long token lists: the plain mean of the own and the neighbours' targets, as rounds 14 and 22 chose it)
    auto_weight = DEFAULT_NEIGHBOUR_WEIGHT if neighbours and not long_tokens else None
    if params["neighbour_space"] == "auto" and not neighbours:  # (nothing pooled: no neighbours to find)
        space = "encoder"
    return {"input": given("input", auto_input),
            "standardize_input": standardizes(params["standardize_input"], params["input"], long),
            "max_doc_tokens": given("max_doc_tokens", auto_tokens),
            "diversity_weight": diversity_weight,
            "bow_weight": given("bow_weight", auto_bow),
            "target_neighbours": neighbours,
            "neighbour_weight": given("neighbour_weight", auto_weight),
            "neighbour_space": space,
            "theta_temperature": theta_t,
            "num_epochs": given("num_epochs", auto_epochs)}
