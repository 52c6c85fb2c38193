"""LLMRating: expected value of the 1-3 rating, from an OpenAI-compatible endpoint's log-probabilities."""

from __future__ import annotations

import math

import pytest

from dsl_plugin.llm_rating import SYSTEM_PROMPT, LLMRating


class _Resp:
    def __init__(self, payload):
        self._payload = payload

    def raise_for_status(self):
        pass

    def json(self):
        return self._payload


def _payload(top, content="3"):
    return {"choices": [{"message": {"content": content},
                         "logprobs": {"content": [{"top_logprobs": [{"token": t, "logprob": math.log(p)}
                                                                    for t, p in top]}]}}]}


def test_endpoint_rating_is_the_expected_value(monkeypatch):
    sent = {}

    def fake_post(url, headers, json, timeout):
        sent.update(url=url, body=json)
        return _Resp(_payload([("3", 0.5), ("2", 0.3), ("1", 0.1), ("hello", 0.1)]))

    monkeypatch.setattr("requests.post", fake_post)
    metric = LLMRating(endpoint="http://127.0.0.1:9/v1/", endpoint_model="judge", topk=3)
    score = metric.score({"topics": [["a", "b", "c", "d"], ["e", "f", "g"]]})
    # (1*0.1 + 2*0.3 + 3*0.5) / 0.9, renormalised over the three ratings
    assert score == pytest.approx((0.1 + 0.6 + 1.5) / 0.9)
    assert sent["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert sent["body"]["messages"][0]["content"] == SYSTEM_PROMPT
    assert sent["body"]["messages"][1]["content"] == "Topic words: e, f, g"


def test_endpoint_without_logprobs_falls_back_to_the_answer(monkeypatch):
    monkeypatch.setattr("requests.post", lambda *a, **k: _Resp({"choices": [{"message": {"content": "2"}}]}))
    assert LLMRating(endpoint="http://127.0.0.1:9/v1").rate(["x", "y"]) == 2.0
    monkeypatch.setattr("requests.post", lambda *a, **k: _Resp({"choices": [{"message": {"content": "maybe"}}]}))
    with pytest.raises(ValueError, match="not a rating"):
        LLMRating(endpoint="http://127.0.0.1:9/v1").rate(["x", "y"])


def test_empty_output_is_an_error():
    with pytest.raises(ValueError, match="no 'topics'"):
        LLMRating(endpoint="http://127.0.0.1:9/v1").score({})
