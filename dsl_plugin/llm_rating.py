"""LLM rating of topics (the paper's Table 6 prompt, 1-3 scale) as an OCTIS metric.

The rating of a topic is the *expected value* of the answer under the model's next-token distribution
restricted to "1", "2", "3" (a local LM), or under the top log-probabilities returned by an
OpenAI-compatible ``/chat/completions`` endpoint. The paper used gpt-4o; a small local LM is a much weaker
judge, so compare models with the same judge only.
"""

from __future__ import annotations

import math
from typing import Sequence

from ._octis import AbstractMetric  # OCTIS's base class, or a stand-in without OCTIS

SYSTEM_PROMPT = ("You are a helpful assistant evaluating the top words of a topic model output for a given topic. "
                 "Please rate how related the following words are to each other on a scale from 1 to 3 "
                 "(\"1\" = not very related, \"2\" = moderately related, \"3\" = very related).\n\n"
                 "Reply with a single number, indicating the overall appropriateness of the topic.")
RATINGS = ("1", "2", "3")


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow or underflow (two spellings of a rating, e.g. "3" and " 3")."""
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


class LLMRating(AbstractMetric):
    """Mean expected 1-3 rating of the topics' top words.

    Args:
        model: local LM (packaged alias, path or HF id; see :func:`dsl_plugin.lm.load_language_model`).
        topk: words per topic shown to the judge.
        endpoint: base URL of an OpenAI-compatible API (e.g. ``https://api.openai.com/v1``); when set the
            local model is not used.
        endpoint_model: model name for the endpoint (e.g. ``gpt-4o``).
        api_key: key for the endpoint.
        device: torch device for the local LM.
    """

    def __init__(self, model: str = "gemma3-270m", topk: int = 10, endpoint: str | None = None,
                 endpoint_model: str = "gpt-4o", api_key: str | None = None, device: str = "cpu"):
        super().__init__()
        self.model, self.topk, self.endpoint = model, topk, endpoint
        self.endpoint_model, self._api_key, self.device = endpoint_model, api_key, device
        self._lm = None

    def info(self) -> dict:
        return {"name": "LLM rating", "description": "expected 1-3 relatedness rating of the top words (Table 6)"}

    # ------------------------------------------------------------------ local LM
    def _prompt(self, words: Sequence[str]) -> str:
        tok = self._lm[0]
        user = "Topic words: " + ", ".join(words)
        if getattr(tok, "chat_template", None):
            msgs = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
            return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        return f"{SYSTEM_PROMPT}\n\n{user}\nRating:"

    def _rate_local(self, words: Sequence[str]) -> float:
        import torch

        from .lm import load_language_model

        if self._lm is None:
            tok, lm = load_language_model(self.model, device=self.device)
            ids = []
            for r in RATINGS:
                cands = {tok(r, add_special_tokens=False)["input_ids"][-1],
                         tok(" " + r, add_special_tokens=False)["input_ids"][-1]}
                ids.append(sorted(cands))
            self._lm = (tok, lm, ids)
        tok, lm, ids = self._lm
        enc = tok(self._prompt(words), return_tensors="pt", add_special_tokens=not getattr(tok, "chat_template", None))
        with torch.inference_mode():
            logits = lm(**{k: v.to(lm.device) for k, v in enc.items()}, logits_to_keep=1).logits[0, -1].float()
        probs = torch.softmax(logits, -1)
        mass = torch.stack([probs[i].sum() for i in ids])
        mass = mass / mass.sum()
        return float(sum((k + 1) * m for k, m in enumerate(mass)))

    # ------------------------------------------------------------------ endpoint
    def _rate_endpoint(self, words: Sequence[str]) -> float:
        import requests

        resp = requests.post(
            self.endpoint.rstrip("/") + "/chat/completions",
            headers={"Authorization": f"Bearer {self._api_key}"} if self._api_key else {},
            json={"model": self.endpoint_model, "max_tokens": 1, "temperature": 0, "logprobs": True,
                  "top_logprobs": 10,
                  "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                               {"role": "user", "content": "Topic words: " + ", ".join(words)}]},
            timeout=60)
        resp.raise_for_status()
        where = f"the endpoint {self.endpoint}"
        try:
            body = resp.json()
        except ValueError:
            raise ValueError(f"{where} answered with a body that is not JSON: {str(getattr(resp, 'text', ''))[:200]!r}") from None
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            detail = body.get("error") if isinstance(body, dict) else None
            raise ValueError(f"{where} returned no choices" + (f" (error: {detail})" if detail else f": {str(body)[:200]}"))
        choice = choices[0]
        content = (choice.get("logprobs") or {}).get("content") or [{}]
        tops = (content[0] if isinstance(content[0], dict) else {}).get("top_logprobs") or []
        found = {}
        for t in tops if isinstance(tops, list) else []:
            tok = str(t.get("token", "") if isinstance(t, dict) else "").strip()
            if tok in RATINGS:
                lp = t.get("logprob")
                if isinstance(lp, bool) or not isinstance(lp, (int, float)) or math.isnan(lp) or lp > 1e-6:
                    raise ValueError(f"{where} returned an invalid log-probability {lp!r} for token {tok!r} "
                                     "(expected a number <= 0)")
                found[tok] = _logaddexp(found.get(tok, -math.inf), float(lp))
        if found and max(found.values()) > -math.inf:
            top = max(found.values())  # shift before exp: -800 and -801 still give 0.73 / 0.27
            mass = {r: math.exp(lp - top) for r, lp in found.items()}
            return sum(int(r) * p for r, p in mass.items()) / sum(mass.values())
        text = str((choice.get("message") or {}).get("content") or "").strip()
        if text[:1] in RATINGS:
            return float(text[:1])
        raise ValueError(f"the endpoint answered {text!r}, not a rating 1-3")

    def rate(self, words: Sequence[str]) -> float:
        """Expected rating (1..3) of one topic."""
        words = list(words)[: self.topk]
        return self._rate_endpoint(words) if self.endpoint else self._rate_local(words)

    def score(self, model_output: dict) -> float:
        """Mean expected rating over the topics of an OCTIS model output."""
        topics = model_output.get("topics")
        if not topics:
            raise ValueError("model_output has no 'topics'")
        return float(sum(self.rate(t) for t in topics) / len(topics))
