"""Soft-label targets built by DSL from raw restricted logits."""

from __future__ import annotations

import numpy as np
import pytest

from dsl_plugin import DSL
from dsl_plugin.teacher import TeacherOutputs


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("tau", [1.0, 3.0])
def test_soft_targets_are_tempered_softmax(tau):
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], np.float32)
    out = TeacherOutputs(logits=logits, hidden=np.zeros((2, 4), np.float32))
    y = DSL(temperature=tau, calibration=None, bow_weight=0)._targets(out, None)
    np.testing.assert_allclose(y, _softmax(logits / tau), rtol=1e-6)


def test_centred_logits_remove_the_corpus_mean_per_word():
    # word 0 is generically likely (high logit everywhere): centring must take that away
    logits = np.array([[9.0, 2.0, 0.0], [9.0, 0.0, 2.0]], np.float32)
    out = TeacherOutputs(logits=logits, hidden=np.zeros((2, 4), np.float32))
    plain = DSL(temperature=1.0, calibration=None, bow_weight=0)._targets(out, None)
    centred = DSL(temperature=1.0, calibration="corpus", bow_weight=0)._targets(out, None)
    assert plain[:, 0].min() > 0.99
    np.testing.assert_allclose(centred, _softmax(logits - logits.mean(0)), rtol=1e-6)
    assert centred[0].argmax() == 1 and centred[1].argmax() == 2
