"""Prompt encoding: document -> prompt token ids, and topic words -> LM token ids."""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ._config import TeacherConfig

logger = logging.getLogger(__name__)

#: documents that start differently, used to find the token prefix shared by every prompt
_PROBES = ("a", "Z", "1", "(", "x y", "\u00e9")


class PromptEncoder:
    """Builds the labeling prompt of a document as token ids, and maps topic words to tokens.

    Args:
        config: the teacher configuration (template, format, truncation).
        tokenizer: the LM's Hugging Face tokenizer.
    """

    def __init__(self, config: TeacherConfig, tokenizer):
        self.config = config
        self.tokenizer = tokenizer
        self._prefix: list[int] | None = None

    def _truncate(self, document: str) -> str:
        doc = document.strip()
        enc = self.tokenizer(doc, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) > self.config.max_doc_tokens:
            doc = doc[: enc["offset_mapping"][self.config.max_doc_tokens - 1][1]]
        return doc

    def encode(self, document: str) -> list[int]:
        """Token ids of the prompt for one document, truncating inside the document slot."""
        prefix, suffix = self.config.prompt.split("{document}")
        text = (prefix + self._truncate(document) + suffix).rstrip()
        tok = self.tokenizer
        if self.config.prompt_format == "chat":
            if not getattr(tok, "chat_template", None):
                raise ValueError(f"prompt_format='chat' needs a tokenizer with a chat template; "
                                 f"{self.config.model!r} has none (use prompt_format='raw')")
            chat = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                           add_generation_prompt=True)
            return list(tok(chat, add_special_tokens=False)["input_ids"])
        return list(tok(text)["input_ids"])

    def prefix_ids(self) -> list[int]:
        """Token ids that begin every prompt (BOS + instruction up to the document slot).

        Found as the common prefix of the prompts of probe documents that start differently, so a
        token merged across the ``{document}`` boundary is never included.
        """
        if self._prefix is None:
            self._prefix = common_prefix([self.encode(p) for p in _PROBES])
        return self._prefix

    def word_tokens(self, vocabulary: Sequence[str]) -> list[list[int]]:
        """Token ids of ``" " + word`` for each word (empty for a blank word): :func:`word_token_ids`."""
        return word_token_ids(self.tokenizer, vocabulary)

    def vocabulary_token_ids(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, dict[int, list[str]]]:
        """First sub-token id of ``" " + word`` for each word, and the collisions.

        Returns:
            (ids, collisions) where collisions maps a token id to the 2+ words sharing it.

        Raises:
            ValueError: naming the words that map to no token (or only to the unknown token).
        """
        unk = self.tokenizer.unk_token_id
        ids, bad = [], []
        for w, t in zip(vocabulary, self.word_tokens(vocabulary)):
            if not t or (unk is not None and t[0] == unk):
                bad.append(w)
                ids.append(-1)
            else:
                ids.append(t[0])
        if bad:
            raise ValueError(f"{len(bad)} vocabulary word(s) map to no token of {self.config.model!r}: {bad[:10]!r}")
        groups: dict[int, list[str]] = {}
        for w, i in zip(vocabulary, ids):
            groups.setdefault(i, []).append(w)
        collisions = {i: ws for i, ws in groups.items() if len(ws) > 1}
        if collisions:
            n = sum(len(ws) for ws in collisions.values())
            ex = list(collisions.values())[:3]
            logger.warning("%d vocabulary words share their first sub-token with another word (%d tokens), "
                           "e.g. %s: they receive identical teacher logits", n, len(collisions), ex)
        return np.asarray(ids, dtype=np.int64), collisions

    def multi_token_words(self, vocabulary: Sequence[str]) -> tuple[np.ndarray, list[list[int]]]:
        """Indices of the words that ``" " + word`` splits into 2+ tokens, and their token ids."""
        pairs = [(i, t) for i, t in enumerate(self.word_tokens(vocabulary)) if len(t) > 1]
        return np.asarray([i for i, _ in pairs], dtype=np.int64), [t for _, t in pairs]


def word_token_ids(tokenizer, vocabulary: Sequence[str]) -> list[list[int]]:
    """Token ids of ``" " + word`` for each word, as the teacher reads a topic word after the prompt (empty for a
    blank word)."""
    return [list(tokenizer(" " + w, add_special_tokens=False)["input_ids"]) if w.strip() else []
            for w in vocabulary]


def single_token_words(tokenizer, vocabulary: Sequence[str]) -> np.ndarray:
    """True for the words that are one token of the LM (``" " + word``): the words whose first-sub-token score
    is the word's own probability. The others are scored by a prefix (``"astra"`` -> ``" a"``)."""
    return np.array([len(t) == 1 for t in word_token_ids(tokenizer, vocabulary)], dtype=bool)


def common_prefix(seqs: Sequence[Sequence[int]]) -> list[int]:
    """The longest list that starts every sequence."""
    first = seqs[0]
    n = min(len(s) for s in seqs)
    k = 0
    while k < n and all(s[k] == first[k] for s in seqs):
        k += 1
    return list(first[:k])
