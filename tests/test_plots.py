"""Pictures: topic word bars, document-topic heatmap with topic sizes, metric bars; DSL.plot_topics; fit --plots."""

from __future__ import annotations

import numpy as np
import pytest

from dsl_plugin import DSL, plots
from dsl_plugin.cli import main

K = 4


def _png(path):
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_functions(tmp_path):
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(30)]
    theta = rng.dirichlet(np.ones(K), size=50)
    labels = ["a", "b"] * 25
    fig = plots.topic_words(rng.random((K, 30)), vocab, top_n=5, theta=theta, path=tmp_path / "t.png")
    _png(tmp_path / "t.png")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == K
    # decoder weights (negative entries) are drawn as they are
    fig = plots.topic_words(rng.normal(size=(K, 30)), vocab, topics=[2, 0])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["topic 2", "topic 0"]
    plots.document_topics(theta, labels, path=tmp_path / "d.png", max_docs=20)
    _png(tmp_path / "d.png")
    runs = [{"model": m, "metrics": {"c_v": v, "purity": v / 2}} for m, v in [("DSL", .5), ("DSL", .6), ("LDA", .4)]]
    plots.metric_bars(runs, ["DSL", "LDA"], [("c_v", "C_V"), ("purity", "Purity")], path=tmp_path / "m.png")
    _png(tmp_path / "m.png")
    with pytest.raises(ValueError, match="vocabulary has 29"):
        plots.topic_words(np.ones((K, 30)), vocab[:-1])
    with pytest.raises(ValueError, match="out of range"):
        plots.topic_words(np.ones((K, 30)), vocab, topics=[K])
    with pytest.raises(ValueError, match="3 labels for 50"):
        plots.document_topics(theta, labels[:3])


def test_dsl_plot_topics(dataset, dsl_kwargs, tmp_path):
    model = DSL(num_topics=K, **dsl_kwargs)
    model.train_model(dataset)
    fig = model.plot_topics(tmp_path / "dsl.png", top_n=6)
    _png(tmp_path / "dsl.png")
    shares = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(shares) == K and all("% of docs" in s for s in shares)
    model.save(tmp_path / "saved")
    DSL.load(tmp_path / "saved").plot_topics()  # a loaded model has no training theta: topics in index order


def test_fit_cli_writes_pictures(dataset, dataset_folder, dsl_kwargs, tmp_path, capsys, monkeypatch):
    import dsl_plugin.model

    teacher = {k: dsl_kwargs[k] for k in ("max_doc_tokens", "cache_dir", "device")}

    class SessionTeacherDSL(DSL):  # the CLI's DSL with the session's teacher settings: its cache serves the fit
        def __init__(self, **kw):
            super().__init__(**{**kw, **teacher})

    monkeypatch.setattr(dsl_plugin.model, "DSL", SessionTeacherDSL)
    main(["fit", str(dataset_folder), "--num-topics", "3", "--epochs", "2", "--plots", str(tmp_path / "pics")])
    assert "pictures:" in capsys.readouterr().out
    _png(tmp_path / "pics" / "DSL-K3-topics.png")
    _png(tmp_path / "pics" / "DSL-K3-documents.png")
